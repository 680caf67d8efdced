/** Small building blocks shared by the views. */
import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { t } from '../i18n/vi.js';
import { onLinkClick } from '../app/router.js';

export function Alert({ kind = 'error', children }: { kind?: 'error' | 'info' | 'success' | 'warning'; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ label = t.loading }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Link({ href, children, class: cls, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a href={href} class={cls} onClick={onLinkClick} {...rest}>
      {children}
    </a>
  );
}

export function Card({ title, children, actions, class: cls = '', id }: { title?: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren; class?: string; id?: string }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section class={`card ${cls}`} aria-labelledby={headingId} id={id}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2 id={headingId}>{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Badge({ tone, children }: { tone: string; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** Client-side paging of an array already in memory. */
export function Pager({ page, pages, onPage, total, size }: { page: number; pages: number; onPage: (p: number) => void; total: number; size: number }) {
  if (pages <= 1) return null;
  const from = page * size + 1;
  const to = Math.min(total, (page + 1) * size);
  return (
    <nav class="pager" aria-label={t.page(page + 1, pages)}>
      <button type="button" class="btn btn-small" disabled={page === 0} onClick={() => onPage(page - 1)}>
        ‹ {t.prev}
      </button>
      <span>{t.showing(from, to, total)}</span>
      <button type="button" class="btn btn-small" disabled={page >= pages - 1} onClick={() => onPage(page + 1)}>
        {t.next} ›
      </button>
    </nav>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A loudspeaker, drawn (emoji fonts are missing on many office PCs). */
export function SpeakerIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d="M3 10v4h4l5 4V6L7 10H3zm13.5 2a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z" />
    </svg>
  );
}
