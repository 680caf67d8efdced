/**
 * The two files the commune's pages load (issue 22): served from `/xa/nhung.css` and `/xa/nhung.js`, so the
 * pages' CSP needs no 'unsafe-inline' and the player stays a few kilobytes, without the app's bundle.
 * The script: one bulletin plays at a time; the button says what it will do; and the page tells the portal
 * that frames it how tall it is (`{ loaxaEmbedHeight }` by postMessage), so the portal may size its iframe.
 */
export const EMBED_CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff}
main{max-width:44rem;margin:0 auto;padding:12px 14px}
header h1,article h1{font-size:1.25rem;margin:0 0 2px;color:#0b4f8a}
.sub{margin:0 0 10px;color:#5a6472;font-size:.9rem}
ol.bulletins{list-style:none;margin:0;padding:0}
.bulletin{border-top:1px solid #dfe3e8;padding:10px 0}
.bulletin.warning{border-left:4px solid #c62828;padding-left:10px}
.bulletin h2{font-size:1.05rem;margin:0 0 2px}
a{color:#0b4f8a}
.meta{margin:0 0 6px;color:#5a6472;font-size:.85rem}
.player{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.player audio{flex:1 1 14rem;min-width:0;height:36px}
button.play{font:inherit;font-weight:600;border:0;border-radius:18px;padding:6px 14px;background:#0b4f8a;color:#fff;cursor:pointer;min-height:36px}
button.play[aria-pressed=true]{background:#c62828}
details{margin-top:6px}summary{cursor:pointer;color:#0b4f8a}
.text p{margin:.4em 0}
footer{border-top:1px solid #dfe3e8;margin-top:8px;padding-top:8px;font-size:.85rem;color:#5a6472}
.empty{color:#5a6472}
`;

export const EMBED_JS = `(function () {
  var audios = document.querySelectorAll('audio');
  function label(b, a) { b.textContent = a.paused ? '\\u25B6 Nghe' : '\\u23F8 D\\u1EEBng'; b.setAttribute('aria-pressed', a.paused ? 'false' : 'true'); }
  document.querySelectorAll('button.play').forEach(function (b) {
    var a = document.getElementById(b.getAttribute('data-audio'));
    if (!a) return;
    b.addEventListener('click', function () { if (a.paused) { a.play(); } else { a.pause(); } });
    ['play', 'pause', 'ended'].forEach(function (e) { a.addEventListener(e, function () { label(b, a); }); });
  });
  audios.forEach(function (a) {
    a.addEventListener('play', function () { audios.forEach(function (o) { if (o !== a) o.pause(); }); });
  });
  if (window.parent !== window) {
    var last = 0;
    var tell = function () {
      var h = document.documentElement.scrollHeight;
      if (h !== last) { last = h; window.parent.postMessage({ loaxaEmbedHeight: h }, '*'); }
    };
    tell();
    document.querySelectorAll('details').forEach(function (d) { d.addEventListener('toggle', tell); });
    window.addEventListener('resize', tell);
  }
})();
`;
