/**
 * The commune's feeds (issue 22): an RSS 2.0 podcast with the iTunes tags Apple Podcasts and most apps read, and
 * an Atom 1.0 (RFC 4287) feed of the same notices as text. Pure functions of what was read: tested by parsing.
 */
import type { Commune, PublicBulletin } from './feed-repository.js';
import { categoryLabel, clockDuration, esc, excerpt, paragraphs, rfc3339, rfc822 } from './text.js';

/** A public bulletin with the size of the file the podcast points to. */
export type FeedItem = PublicBulletin & { bytes: number };

/** Where everything of one commune is, absolute (podcast apps and Zalo fetch from outside). */
export class CommuneUrls {
  constructor(
    readonly base: string,
    readonly code: string,
    /** The image the province set (LOAXA_FEED_IMAGE_FILE), else the generated ones; its extension. */
    readonly imageExt: 'png' | 'jpg',
  ) {}
  get page() {
    return `${this.base}/xa/${encodeURIComponent(this.code)}/nhung`;
  }
  get podcast() {
    return `${this.base}/xa/${encodeURIComponent(this.code)}/podcast.xml`;
  }
  get notices() {
    return `${this.base}/xa/${encodeURIComponent(this.code)}/thong-bao.xml`;
  }
  share(id: string) {
    return `${this.base}/xa/${encodeURIComponent(this.code)}/ban-tin/${encodeURIComponent(id)}`;
  }
  audio(b: Pick<PublicBulletin, 'id' | 'audioExt'>) {
    return `${this.share(b.id)}/audio.${b.audioExt}`;
  }
  transcript(id: string) {
    return `${this.share(id)}/loi.txt`;
  }
  /** 1200×630 for link previews (Facebook and Zalo crop to about 1.91:1). */
  get cover() {
    return `${this.base}/xa/anh-bia.${this.imageExt}`;
  }
  /** 1400×1400, the smallest square Apple Podcasts takes. */
  get artwork() {
    return `${this.base}/xa/anh-podcast.${this.imageExt}`;
  }
}

/** Stable ids (RFC 4151 tag URIs): they survive a change of the server's address. */
const tagOf = (code: string, rest: string) => `tag:loaxa.vn,2026:xa/${code}/${rest}`;

export const authorOf = (c: Commune) => `UBND ${c.name}`;
const channelTitle = (c: Commune) => `Bản tin ${c.name}`;
const channelDescription = (c: Commune) =>
  `Các bản tin đã phát trên hệ thống truyền thanh cơ sở của ${c.name}${c.parentName ? `, ${c.parentName}` : ''}: âm thanh và nội dung.`;
const AUDIO_TYPES = { mp3: 'audio/mpeg', ogg: 'audio/ogg' } as const;

export function podcastXml(c: Commune, items: readonly FeedItem[], urls: CommuneUrls, emptyUpdatedAt: number): string {
  const updated = items.reduce((m, i) => Math.max(m, i.firstAiredAt), 0) || emptyUpdatedAt;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">',
    '<channel>',
    `<title>${esc(channelTitle(c))}</title>`,
    `<link>${esc(urls.page)}</link>`,
    `<description>${esc(channelDescription(c))}</description>`,
    '<language>vi</language>',
    `<lastBuildDate>${rfc822(updated)}</lastBuildDate>`,
    '<generator>Loa Xã</generator>',
    `<atom:link href="${esc(urls.podcast)}" rel="self" type="application/rss+xml"/>`,
    `<image><url>${esc(urls.artwork)}</url><title>${esc(channelTitle(c))}</title><link>${esc(urls.page)}</link></image>`,
    `<itunes:author>${esc(authorOf(c))}</itunes:author>`,
    `<itunes:owner><itunes:name>${esc(authorOf(c))}</itunes:name></itunes:owner>`,
    `<itunes:image href="${esc(urls.artwork)}"/>`,
    '<itunes:category text="Government"/>',
    '<itunes:category text="News"><itunes:category text="Daily News"/></itunes:category>',
    '<itunes:explicit>false</itunes:explicit>',
    '<itunes:type>episodic</itunes:type>',
    `<podcast:guid>${esc(tagOf(c.code, 'podcast'))}</podcast:guid>`,
  ];
  for (const i of items) {
    out.push(
      '<item>',
      `<title>${esc(i.title)}</title>`,
      `<link>${esc(urls.share(i.id))}</link>`,
      `<guid isPermaLink="false">${esc(tagOf(c.code, `ban-tin/${i.id}`))}</guid>`,
      `<pubDate>${rfc822(i.firstAiredAt)}</pubDate>`,
      `<category>${esc(categoryLabel(i.category, i.warning))}</category>`,
      `<description>${esc(i.text ? excerpt(i.text, 4000) : 'Bản tin ghi âm.')}</description>`,
      ...(i.text ? [`<content:encoded>${esc(paragraphs(i.text))}</content:encoded>`] : []),
      `<enclosure url="${esc(urls.audio(i))}" length="${i.bytes}" type="${AUDIO_TYPES[i.audioExt]}"/>`,
      `<itunes:duration>${clockDuration(i.durationMs)}</itunes:duration>`,
      '<itunes:explicit>false</itunes:explicit>',
      '<itunes:episodeType>full</itunes:episodeType>',
      ...(i.text ? [`<podcast:transcript url="${esc(urls.transcript(i.id))}" type="text/plain" language="vi"/>`] : []),
      '</item>',
    );
  }
  out.push('</channel>', '</rss>', '');
  return out.join('\n');
}

export function noticesAtom(c: Commune, items: readonly FeedItem[], urls: CommuneUrls, emptyUpdatedAt: number): string {
  const updatedOf = (i: FeedItem) => Math.max(i.firstAiredAt, i.updatedAt);
  const updated = items.reduce((m, i) => Math.max(m, updatedOf(i)), 0) || emptyUpdatedAt;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">',
    `<id>${esc(tagOf(c.code, 'thong-bao'))}</id>`,
    `<title>${esc(`Thông báo của ${c.name}`)}</title>`,
    `<subtitle>${esc(channelDescription(c))}</subtitle>`,
    `<updated>${rfc3339(updated)}</updated>`,
    `<author><name>${esc(authorOf(c))}</name></author>`,
    `<link rel="self" type="application/atom+xml" href="${esc(urls.notices)}"/>`,
    `<link rel="alternate" type="text/html" href="${esc(urls.page)}"/>`,
    '<generator>Loa Xã</generator>',
    `<logo>${esc(urls.cover)}</logo>`,
  ];
  for (const i of items) {
    out.push(
      '<entry>',
      `<id>${esc(tagOf(c.code, `ban-tin/${i.id}`))}</id>`,
      `<title type="text">${esc(i.title)}</title>`,
      `<published>${rfc3339(i.firstAiredAt)}</published>`,
      `<updated>${rfc3339(updatedOf(i))}</updated>`,
      `<link rel="alternate" type="text/html" href="${esc(urls.share(i.id))}"/>`,
      `<link rel="enclosure" type="${AUDIO_TYPES[i.audioExt]}" length="${i.bytes}" href="${esc(urls.audio(i))}"/>`,
      `<category term="${esc(i.warning ? 'warning' : (i.category ?? 'general'))}" label="${esc(categoryLabel(i.category, i.warning))}"/>`,
      `<summary type="text">${esc(i.text ? excerpt(i.text, 300) : 'Bản tin ghi âm: nghe tại liên kết.')}</summary>`,
      ...(i.text ? [`<content type="text">${esc(i.text)}</content>`] : []),
      '</entry>',
    );
  }
  out.push('</feed>', '');
  return out.join('\n');
}
