/**
 * "Liên thông" (issue 17): the national link for the installation's province admins, in five tabs — the link
 * up to the province (state, what waits, what the province refused and its answer), the children (the central
 * dashboard and each child's as-run), sending a bulletin down, what came down from a parent and every request
 * that reached our served interface, and the peers (add one, its password shown once; revoke).
 */
import { useState } from 'preact/hooks';
import { useAsync } from '../../app/hooks.js';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { Alert, Loading } from '../../components/ui.js';
import { t } from '../../i18n/vi.js';
import { ChildrenPanel } from './ChildrenPanel.js';
import { nationalError, type PeerLookup } from './national-logic.js';
import { PeersPanel } from './PeersPanel.js';
import { ReceivedPanel } from './ReceivedPanel.js';
import { SendPanel } from './SendPanel.js';
import { UpstreamPanel } from './UpstreamPanel.js';

const TABS = ['up', 'children', 'send', 'received', 'peers'] as const;
type Tab = (typeof TABS)[number];
/** `/lien-thong#cap-duoi` opens that tab (a link can point at it; reloading keeps it). */
const HASH: Record<Tab, string> = { up: 'len-tinh', children: 'cap-duoi', send: 'gui-xuong', received: 'tu-cap-tren', peers: 'ket-noi' };

function tabFromHash(): Tab {
  const h = location.hash.replace(/^#/, '');
  return TABS.find((k) => HASH[k] === h) ?? 'up';
}


export default function NationalView() {
  const { api } = useSession();
  const flat = useFlatAreas();
  const [tab, setTab] = useState<Tab>(tabFromHash);
  const [peers, reloadPeers] = useAsync((signal) => api.nationalPeers(signal).then((r) => r.items), []);

  const choose = (k: Tab) => {
    setTab(k);
    // Peers change on other screens and through the API too: each tab starts from the current list.
    reloadPeers();
    history.replaceState(history.state, '', `${location.pathname}${location.search}#${HASH[k]}`);
  };

  let body;
  if (peers.status === 'loading' || !flat) body = <Loading />;
  else if (peers.status === 'error') body = <Alert>{nationalError(peers.error)}</Alert>;
  else {
    const list = peers.value;
    const byCode = new Map(flat.map((a) => [a.code, a.name]));
    const lookup: PeerLookup = {
      peers: list,
      nameOf: (id) => (id === null ? t.national.inbound.anonymous : (list.find((p) => p.id === id)?.name ?? t.national.unknownPeer)),
      areaName: (code) => byCode.get(code) ?? code,
    };
    body = (
      <div role="tabpanel" id={`nat-${tab}`} aria-labelledby={`nat-tab-${tab}`}>
        {tab === 'up' && <UpstreamPanel />}
        {tab === 'children' && <ChildrenPanel lookup={lookup} />}
        {tab === 'send' && <SendPanel lookup={lookup} />}
        {tab === 'received' && <ReceivedPanel lookup={lookup} />}
        {tab === 'peers' && <PeersPanel lookup={lookup} flat={flat} onChanged={reloadPeers} />}
      </div>
    );
  }

  return (
    <div class="national">
      <h1>{t.national.title}</h1>
      <p class="muted">{t.national.intro}</p>
      <div class="tabs nat-tabs" role="tablist" aria-label={t.national.title}>
        {TABS.map((k) => (
          <button key={k} type="button" role="tab" id={`nat-tab-${k}`} aria-selected={tab === k} aria-controls={`nat-${k}`} class={tab === k ? 'active' : ''} onClick={() => choose(k)}>
            {t.national.tabs[k]}
          </button>
        ))}
      </div>
      {body}
    </div>
  );
}
