"""Deterministic synthetic blog for the benchmarks: posts, listing pages and their cards.

A post is a pure function of (seed, number): the same number always gives the same title, slug,
category, tags, date and Chinese excerpt, so pages can be rebuilt anywhere (the benchmark, the
local HTTP server subprocess) without sharing state. Post numbers grow with time: the newest post
has the highest number, and a listing page shows posts newest first.

Listing pages are 50-60 KB: 20 cards with Chinese excerpts inside real site chrome (head with
meta/link tags and an inline config script, a navigation bar, a sidebar with an about box, recent
posts, categories, a tag cloud and monthly archives, pagination, a footer and inline analytics
and theme scripts), like the output of a Hexo/Hugo theme.
"""

from __future__ import annotations

import hashlib
import html
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from archiver.models import Card
from archiver.parse.profile import Profile

SITE_HOST = "blog.bench.test"
BASE_URL = f"http://{SITE_HOST}/"
CARDS_PER_PAGE = 20

#: The profile that reads the synthetic theme (what `archiver probe` would write for it).
PROFILE = Profile(
    card="article.post-card",
    title="h2.post-title a",
    permalink="h2.post-title a",
    category=".post-category a",
    tags=".post-tags a",
    date="time",
    excerpt=".post-excerpt",
    next_page="a.next",
)

_TERMS = [
    "注意力机制",
    "卷积神经网络",
    "循环神经网络",
    "梯度下降",
    "反向传播",
    "损失函数",
    "正则化",
    "批归一化",
    "残差连接",
    "预训练模型",
    "微调",
    "知识蒸馏",
    "对比学习",
    "自监督学习",
    "强化学习",
    "策略梯度",
    "价值函数",
    "马尔可夫决策过程",
    "目标检测",
    "语义分割",
    "实例分割",
    "图像分类",
    "特征金字塔",
    "锚框",
    "非极大值抑制",
    "交并比",
    "数据增强",
    "过拟合",
    "学习率",
    "优化器",
    "动量",
    "权重衰减",
    "激活函数",
    "池化层",
    "全连接层",
    "嵌入向量",
    "位置编码",
    "多头注意力",
    "编码器",
    "解码器",
    "变分自编码器",
    "生成对抗网络",
    "扩散模型",
    "采样",
    "温度系数",
    "束搜索",
    "词表",
    "分词器",
    "大语言模型",
    "指令微调",
    "人类反馈",
    "奖励模型",
    "上下文学习",
    "思维链",
    "检索增强",
    "向量数据库",
    "量化",
    "剪枝",
    "推理加速",
    "显存",
    "混合精度",
    "分布式训练",
    "数据并行",
    "模型并行",
    "流水线并行",
    "张量",
    "矩阵乘法",
    "稀疏",
    "时序建模",
    "在线动作检测",
    "视线估计",
    "光流",
    "点云",
    "三维重建",
    "深度估计",
    "姿态估计",
    "超分辨率",
    "上采样",
    "图神经网络",
    "消息传递",
    "节点分类",
    "链接预测",
    "推荐系统",
    "召回",
    "排序",
    "特征工程",
    "交叉熵",
    "均方误差",
    "贝叶斯",
    "先验",
    "后验",
    "似然",
    "期望最大化",
    "蒙特卡洛",
    "马尔可夫链",
    "核函数",
    "支持向量机",
    "决策树",
    "随机森林",
    "梯度提升",
    "聚类",
    "降维",
    "主成分分析",
    "线性回归",
    "逻辑回归",
    "凸优化",
    "拉格朗日乘子",
    "对偶问题",
    "泛化误差",
]
_WORDS = [
    "我们",
    "本文",
    "提出",
    "一种",
    "方法",
    "通过",
    "利用",
    "可以",
    "使得",
    "模型",
    "网络",
    "结构",
    "输入",
    "输出",
    "特征",
    "信息",
    "问题",
    "实验",
    "结果",
    "表明",
    "性能",
    "提升",
    "显著",
    "相比",
    "之前",
    "工作",
    "主要",
    "思想",
    "首先",
    "然后",
    "最后",
    "因此",
    "但是",
    "由于",
    "同时",
    "其中",
    "对于",
    "这个",
    "这里",
    "作者",
    "设计",
    "模块",
    "框架",
    "训练",
    "测试",
    "数据集",
    "任务",
    "效果",
    "分析",
    "解决",
    "计算",
    "复杂度",
    "参数",
    "更新",
    "目标",
    "函数",
    "关系",
    "依赖",
    "表示",
    "空间",
    "维度",
    "序列",
    "长度",
    "时间",
    "阶段",
    "过程",
]
_PUNCT = ("，", "，", "，", "。", "、", "；", "：")
_CATEGORIES = (
    "深度学习", "计算机视觉", "自然语言处理", "强化学习", "机器学习", "大模型", "论文笔记",
    "工程实践", "数学基础", "Linux", "抓包", "读书笔记",
)  # fmt: skip
_TAGS = (*tuple(_TERMS[:60]), "PyTorch", "CUDA", "Python", "Transformer", "LLM", "CV", "NLP")
_EPOCH = date(2019, 1, 1)


@dataclass(frozen=True, slots=True)
class Post:
    number: int
    slug: str
    title: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    date: str
    excerpt: str

    @property
    def url(self) -> str:
        return f"{BASE_URL}posts/{self.slug}/"

    def card(self) -> Card:
        """The card archiver's profile extraction gives for this post (for building fast)."""
        return Card(
            title=self.title,
            url=self.url,
            categories=self.categories,
            tags=self.tags,
            date=self.date,
            excerpt=self.excerpt,
        )


def chinese_text(rng: random.Random, chars: int) -> str:
    """Chinese prose-like text of about ``chars`` characters built from ML terms and words."""
    parts: list[str] = []
    size = 0
    since_punct = 0
    while size < chars:
        word = rng.choice(_TERMS) if rng.random() < 0.3 else rng.choice(_WORDS)
        parts.append(word)
        size += len(word)
        since_punct += len(word)
        if since_punct > rng.randint(8, 24):
            mark = rng.choice(_PUNCT)
            parts.append(mark)
            size += 1
            since_punct = 0
        elif rng.random() < 0.04:
            token = rng.choice(("Transformer", "ResNet", "BERT", "GPT", "[Math]", "[代码]", "RNN"))
            parts.append(f" {token} ")
            size += len(token) + 2
    return "".join(parts)


@lru_cache(maxsize=4096)
def post(number: int, seed: int = 1) -> Post:
    """Post ``number`` of the synthetic blog (deterministic)."""
    rng = random.Random(f"post:{seed}:{number}")
    title = rng.choice(_TERMS) + "：" + chinese_text(rng, rng.randint(8, 18)).rstrip("，。、；：")
    excerpt = chinese_text(rng, rng.randint(140, 200)).rstrip("，。、；：") + "..."
    categories = tuple(rng.sample(_CATEGORIES, rng.choice((1, 1, 1, 2))))
    tags = tuple(rng.sample(_TAGS, rng.randint(1, 4)))
    day = _EPOCH + timedelta(hours=number * 7)
    slug = f"{number:06d}-" + hashlib.blake2b(title.encode(), digest_size=4).hexdigest()
    return Post(number, slug, title, categories, tags, day.isoformat(), excerpt)


def edited(p: Post, revision: int) -> Post:
    """The post after its author edited the excerpt ``revision`` times (a new version)."""
    if revision == 0:
        return p
    return Post(
        p.number,
        p.slug,
        p.title,
        p.categories,
        p.tags,
        p.date,
        f"（更新 {revision}）" + p.excerpt[8:],
    )


# -- rendering -------------------------------------------------------------------------------------


def _card_html(p: Post) -> str:
    e = html.escape
    cats = "".join(f'<a href="/categories/{e(c)}/" rel="category tag">{e(c)}</a>' for c in p.categories)
    tags = "".join(f'<a href="/tags/{e(t)}/" class="tag">{e(t)}</a> ' for t in p.tags)
    return f"""
      <article class="post-card" id="post-{p.number}" itemscope itemtype="https://schema.org/BlogPosting">
        <header class="post-header">
          <h2 class="post-title" itemprop="headline"><a href="/posts/{p.slug}/" rel="bookmark">{e(p.title)}</a></h2>
          <div class="post-meta">
            <span class="post-date"><i class="icon icon-calendar" aria-hidden="true"></i>
              <time datetime="{p.date}T08:00:00+08:00" itemprop="datePublished">{p.date}</time></span>
            <span class="post-category"><i class="icon icon-folder" aria-hidden="true"></i>{cats}</span>
            <span class="post-views" data-path="/posts/{p.slug}/">阅读 <span class="count">--</span></span>
          </div>
        </header>
        <div class="post-excerpt" itemprop="description"><p>{e(p.excerpt)}</p></div>
        <footer class="post-footer">
          <div class="post-tags">{tags}</div>
          <a class="read-more" href="/posts/{p.slug}/#more">阅读全文 »</a>
        </footer>
      </article>"""


def _script(rng: random.Random, lines: int) -> str:
    """Minified-looking theme/analytics JavaScript (never visible text)."""
    names = ["e", "t", "n", "r", "o", "i", "a", "s", "c", "u", "l", "d", "f", "p", "h", "m"]
    out = []
    for i in range(lines):
        a, b, c = rng.sample(names, 3)
        out.append(
            f"function _{i:x}({a},{b}){{var {c}=document.querySelectorAll('[data-{a}{i}]');"
            f"for(var k=0;k<{c}.length;k++){{{c}[k].addEventListener('click',function(ev){{"
            f"ev.preventDefault();window.__bench&&window.__bench.push(['{a}{b}{c}',{i},{rng.randint(0, 10**6)}]);"
            f"}});}}return {a}*{rng.randint(2, 97)}+{b};}}"
        )
    return "\n".join(out)


def _sidebar(rng: random.Random, newest: int) -> str:
    e = html.escape
    recent = "".join(
        f'<li><a href="/posts/{post(n).slug}/">{e(post(n).title)}</a></li>'
        for n in range(newest, max(newest - 10, -1), -1)
    )
    cats = "".join(
        f'<li class="category-list-item"><a class="category-list-link" href="/categories/{e(c)}/">'
        f'{e(c)}</a><span class="category-list-count">{rng.randint(3, 300)}</span></li>'
        for c in _CATEGORIES
    )
    tags = "".join(
        f'<a href="/tags/{e(t)}/" style="font-size: {rng.randint(10, 24)}px;" class="tag-cloud-link">'
        f"{e(t)}</a> "
        for t in _TAGS
    )
    months = []
    for m in range(24):
        year, month = 2024 - m // 12, 12 - m % 12
        months.append(
            f'<li class="archive-list-item"><a class="archive-list-link" href="/archives/{year}/{month:02d}/">'
            f'{year} 年 {month} 月</a><span class="archive-list-count">{rng.randint(1, 40)}</span></li>'
        )
    return f"""
    <aside id="sidebar" class="sidebar">
      <section class="widget widget-about">
        <img class="avatar" src="/img/avatar.png" alt="avatar" width="96" height="96">
        <h3 class="widget-title">关于博主</h3>
        <p>记录机器学习、计算机视觉和大模型的学习笔记，偶尔写一些 Linux 与网络抓包的工程实践。</p>
        <div class="social"><a href="https://github.com/bench" rel="me">GitHub</a>
          <a href="/atom.xml">RSS</a> <a href="mailto:bench@example.org">Email</a></div>
      </section>
      <section class="widget widget-search"><form action="/search/" method="get">
        <input type="search" name="q" placeholder="搜索文章…"><button type="submit">搜索</button></form></section>
      <section class="widget widget-recent"><h3 class="widget-title">最新文章</h3><ul>{recent}</ul></section>
      <section class="widget widget-categories"><h3 class="widget-title">分类</h3>
        <ul class="category-list">{cats}</ul></section>
      <section class="widget widget-tagcloud"><h3 class="widget-title">标签云</h3>
        <div class="tagcloud">{tags}</div></section>
      <section class="widget widget-archive"><h3 class="widget-title">归档</h3>
        <ul class="archive-list">{"".join(months)}</ul></section>
    </aside>"""


def _pagination(page_no: int, total_pages: int) -> str:
    def href(n: int) -> str:
        return "/" if n == 1 else f"/page/{n}/"

    parts = []
    if page_no > 1:
        parts.append(f'<a class="extend prev" rel="prev" href="{href(page_no - 1)}">« 上一页</a>')
    for n in sorted({1, 2, page_no - 1, page_no, page_no + 1, total_pages - 1, total_pages}):
        if 1 <= n <= total_pages:
            cls = "page-number current" if n == page_no else "page-number"
            parts.append(f'<a class="{cls}" href="{href(n)}">{n}</a>')
    if page_no < total_pages:
        parts.append(f'<a class="extend next" rel="next" href="{href(page_no + 1)}">下一页 »</a>')
    return '<nav id="page-nav" class="pagination">' + " ".join(parts) + "</nav>"


def render_listing(
    posts: list[Post], *, page_no: int, total_pages: int, newest: int, build: str = "static"
) -> bytes:
    """One listing page (UTF-8 bytes) showing ``posts`` in the given order.

    ``newest`` is the site's newest post number (the sidebar lists recent posts); ``build`` is a
    token the theme embeds (a build id / nonce): two captures with different builds differ in
    bytes even when they show the same cards.
    """
    rng = random.Random(f"chrome:{page_no}:{build}")
    cards = "".join(_card_html(p) for p in posts)
    canonical = BASE_URL if page_no == 1 else f"{BASE_URL}page/{page_no}/"
    head_script = _script(rng, 6)
    tail_script = _script(rng, 20)
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta http-equiv="X-UA-Compatible" content="IE=edge">
  <meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1">
  <title>{"" if page_no == 1 else f"第 {page_no} 页 | "}Bench 的学习笔记</title>
  <meta name="description" content="深度学习、计算机视觉与大模型的学习笔记">
  <meta name="keywords" content="深度学习,计算机视觉,自然语言处理,大模型,PyTorch">
  <meta property="og:type" content="website"><meta property="og:title" content="Bench 的学习笔记">
  <meta property="og:url" content="{canonical}"><meta property="og:site_name" content="Bench 的学习笔记">
  <meta name="generator" content="Hexo 7.1.1"><meta name="build" content="{build}">
  <link rel="canonical" href="{canonical}">
  <link rel="alternate" href="/atom.xml" title="Bench 的学习笔记" type="application/atom+xml">
  <link rel="icon" href="/favicon.png"><link rel="stylesheet" href="/css/style.css?v={build}">
  <link rel="preload" href="/fonts/iconfont.woff2" as="font" type="font/woff2" crossorigin>
  <script id="theme-config">
    window.THEME_CONFIG = {{"root":"/","page":{page_no},"total":{total_pages},"lang":"zh-CN","build":"{build}",
      "search":{{"path":"/search.json","field":"post"}},"copycode":true,"lazyload":true}};
{head_script}
  </script>
</head>
<body class="home blog page-{page_no}">
  <header id="header" class="site-header">
    <div class="outer">
      <div id="header-title"><h1 id="logo-wrap"><a href="/" id="logo">Bench 的学习笔记</a></h1>
        <h2 id="subtitle-wrap"><span id="subtitle">记录机器学习笔记的小站</span></h2></div>
      <nav id="main-nav" class="site-nav" aria-label="主导航"><ul>
        <li><a class="main-nav-link" href="/">首页</a></li>
        <li><a class="main-nav-link" href="/archives/">归档</a></li>
        <li><a class="main-nav-link" href="/categories/">分类</a></li>
        <li><a class="main-nav-link" href="/tags/">标签</a></li>
        <li><a class="main-nav-link" href="/about/">关于</a></li>
        <li><a class="main-nav-link" href="/links/">友链</a></li></ul></nav>
      <nav id="sub-nav"><a id="nav-rss-link" class="nav-icon" href="/atom.xml" title="RSS Feed"></a>
        <a id="nav-search-btn" class="nav-icon" title="搜索"></a></nav>
    </div>
  </header>
  <div class="outer layout">
    <main id="main" class="content">{cards}
      {_pagination(page_no, total_pages)}
    </main>{_sidebar(rng, newest)}
  </div>
  <footer id="footer" class="site-footer"><div class="outer">
    <div id="footer-info">&copy; 2019 - 2024 Bench · Powered by <a href="https://hexo.io/">Hexo</a>
      · 本站总访问量 <span id="busuanzi_value_site_pv"></span> 次 · build {build}</div></div>
  </footer>
  <script src="/js/jquery.min.js"></script>
  <script src="/js/script.js?v={build}"></script>
  <script>
{tail_script}
  </script>
</body>
</html>
"""
    return page.encode("utf-8")


# -- the three kinds of input the benchmarks need --------------------------------------------------


def hourly_front_pages(count: int, *, new_per_capture: int = 1, start: int = 0) -> list[tuple[int, bytes]]:
    """``count`` hourly captures of the front page: each shows ``new_per_capture`` new posts.

    Capture ``i`` shows posts ``newest(i) ... newest(i) - 19``: with one new post per capture,
    19 of its 20 cards (95%) were on the previous capture. Every 97th post is edited once while
    it is on the front page (a new version). Returns ``(newest_post_number, page_bytes)``.
    """
    return [front_page(i, new_per_capture=new_per_capture, start=start) for i in range(count)]


def front_posts(i: int, *, new_per_capture: int = 1, start: int = 0) -> tuple[int, list[Post]]:
    """The newest post number and the posts (newest first) the front page shows at capture ``i``."""
    newest = start + CARDS_PER_PAGE - 1 + i * new_per_capture
    shown = [
        edited(post(n), 1 if n % 97 == 0 and newest - n >= 10 else 0)
        for n in range(newest, newest - CARDS_PER_PAGE, -1)
    ]
    return newest, shown


def front_page(i: int, *, new_per_capture: int = 1, start: int = 0) -> tuple[int, bytes]:
    newest, shown = front_posts(i, new_per_capture=new_per_capture, start=start)
    return newest, render_listing(
        shown, page_no=1, total_pages=newest // CARDS_PER_PAGE + 1, newest=newest, build=f"h{i}"
    )


def site_page(page_no: int, total_pages: int) -> bytes:
    """Page ``page_no`` of a static site of ``total_pages`` pages (its newest post on page 1)."""
    newest = total_pages * CARDS_PER_PAGE - 1
    top = newest - (page_no - 1) * CARDS_PER_PAGE
    shown = [post(n) for n in range(top, top - CARDS_PER_PAGE, -1)]
    return render_listing(shown, page_no=page_no, total_pages=total_pages, newest=newest)


def site_page_url(page_no: int, base: str = BASE_URL) -> str:
    return base if page_no == 1 else f"{base}page/{page_no}/"
