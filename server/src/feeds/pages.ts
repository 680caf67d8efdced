/**
 * The commune's HTML (issue 22): the embeddable player a commune portal puts in an `<iframe>`, the page a
 * shared link opens (with the Open Graph tags Zalo and Facebook read for their preview), and the Vietnamese
 * "not found". Server-rendered, no inline script or style: the CSP of these pages allows only the two small
 * files of embed-assets.ts.
 */
import type { Commune } from './feed-repository.js';
import type { CommuneUrls, FeedItem } from './documents.js';
import { authorOf } from './documents.js';
import { categoryLabel, esc, excerpt, paragraphs, spokenDuration, vietnamTime } from './text.js';

/** How many bulletins the player lists. */
export const EMBED_ITEMS = 10;

const head = (title: string, extra = '') =>
  `<!doctype html>\n<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${esc(title)}</title><link rel="stylesheet" href="/xa/nhung.css">${extra}</head>`;

const meta = (i: FeedItem) => `Phát lúc ${vietnamTime(i.firstAiredAt)} · ${spokenDuration(i.durationMs)} · ${esc(categoryLabel(i.category, i.warning))}`;

function player(i: FeedItem, urls: CommuneUrls, n: number): string {
  return (
    `<div class="player"><button type="button" class="play" data-audio="a${n}" aria-label="Nghe bản tin ${esc(i.title)}">▶ Nghe</button>` +
    `<audio id="a${n}" controls preload="none" src="${esc(urls.audio(i))}"></audio></div>`
  );
}

export function embedHtml(c: Commune, items: readonly FeedItem[], urls: CommuneUrls): string {
  const list = items.slice(0, EMBED_ITEMS).map(
    (i, n) =>
      `<li class="bulletin${i.warning ? ' warning' : ''}"><h2><a href="${esc(urls.share(i.id))}" target="_blank" rel="noopener">${esc(i.title)}</a></h2>` +
      `<p class="meta">${meta(i)}</p>${player(i, urls, n)}` +
      (i.text ? `<details><summary>Xem nội dung</summary><div class="text">${paragraphs(i.text)}</div></details>` : '') +
      '</li>',
  );
  return (
    head(`Bản tin ${c.name}`, `<link rel="alternate" type="application/rss+xml" title="Podcast" href="${esc(urls.podcast)}">`) +
    `<body class="embed"><main><header><h1>Bản tin ${esc(c.name)}</h1><p class="sub">Hệ thống truyền thanh cơ sở</p></header>` +
    (list.length ? `<ol class="bulletins">${list.join('')}</ol>` : '<p class="empty">Chưa có bản tin công khai nào được phát.</p>') +
    `<footer><a href="${esc(urls.podcast)}" target="_blank" rel="noopener">Podcast</a> · <a href="${esc(urls.notices)}" target="_blank" rel="noopener">Thông báo (Atom)</a></footer>` +
    '</main><script src="/xa/nhung.js"></script></body></html>\n'
  );
}

export function shareHtml(c: Commune, i: FeedItem, urls: CommuneUrls, image: { width: number | null; height: number | null; type: string }): string {
  const description = i.text ? excerpt(i.text, 200) : `Bản tin của ${c.name}, phát lúc ${vietnamTime(i.firstAiredAt)}.`;
  const og = [
    ['og:type', 'article'],
    ['og:site_name', `Bản tin ${c.name}`],
    ['og:locale', 'vi_VN'],
    ['og:title', i.title],
    ['og:description', description],
    ['og:url', urls.share(i.id)],
    ['og:image', urls.cover],
    ['og:image:type', image.type],
    ...(image.width && image.height ? [['og:image:width', String(image.width)], ['og:image:height', String(image.height)]] : []),
    ['og:image:alt', `Bản tin ${c.name}`],
    ['og:audio', urls.audio(i)],
    ['og:audio:type', i.audioExt === 'mp3' ? 'audio/mpeg' : 'audio/ogg'],
    ['article:published_time', new Date(i.firstAiredAt).toISOString()],
    ['article:author', authorOf(c)],
  ]
    .map(([p, v]) => `<meta property="${p}" content="${esc(v!)}">`)
    .join('');
  const extra = `<meta name="description" content="${esc(description)}">${og}<meta name="twitter:card" content="summary_large_image"><link rel="canonical" href="${esc(urls.share(i.id))}">`;
  return (
    head(`${i.title} — ${c.name}`, extra) +
    `<body class="share"><main><p class="sub"><a href="${esc(urls.page)}">Bản tin ${esc(c.name)}</a></p>` +
    `<article class="bulletin${i.warning ? ' warning' : ''}"><h1>${esc(i.title)}</h1><p class="meta">${meta(i)}</p>${player(i, urls, 0)}` +
    (i.text ? `<div class="text">${paragraphs(i.text)}</div>` : '') +
    `</article><footer>${esc(authorOf(c))} · <a href="${esc(urls.podcast)}">Podcast</a></footer></main><script src="/xa/nhung.js"></script></body></html>\n`
  );
}

export function notFoundHtml(): string {
  return (
    head('Không tìm thấy trang') +
    '<body class="share"><main><h1>Không tìm thấy trang</h1><p>Xã này chưa có trang bản tin, bản tin chưa được công khai, hoặc địa chỉ không đúng.</p>' +
    '<p>Hãy kiểm tra lại đường dẫn hoặc hỏi Ủy ban nhân dân xã.</p></main></body></html>\n'
  );
}
