/**
 * "Cài đặt" (issue 20, "province tools in the app"): the users of the area, the reading dictionary with a
 * listen button, the area's default voice and speed, and offering a bulletin down to communes. Province admins
 * see every tab; approvers the dictionary, the voice of their area and offers (what the server lets them do).
 * `#nguoi-dung`, `#tu-dien`, `#giong-doc` and `#gui-xuong-xa` open a tab.
 */
import { useState } from 'preact/hooks';
import { useSession } from '../../app/session.js';
import { useFlatAreas } from '../../components/AreaSelect.js';
import { Loading } from '../../components/ui.js';
import { can } from '../../logic/roles.js';
import { DictionaryPanel } from './DictionaryPanel.js';
import { OfferTab } from './OfferPanel.js';
import { ts } from './settings-vi.js';
import { UsersPanel } from './UsersPanel.js';
import { VoicePanel } from './VoicePanel.js';
import './settings.css';

const TABS = ['users', 'dictionary', 'voice', 'offers'] as const;
type Tab = (typeof TABS)[number];
const HASH: Record<Tab, string> = { users: 'nguoi-dung', dictionary: 'tu-dien', voice: 'giong-doc', offers: 'gui-xuong-xa' };

export default function SettingsView() {
  const { me } = useSession();
  const flat = useFlatAreas();
  const tabs = TABS.filter((k) => k !== 'users' || can(me.role, 'manage-users'));
  const [tab, setTab] = useState<Tab>(() => tabs.find((k) => HASH[k] === location.hash.replace(/^#/, '')) ?? tabs[0]!);
  const choose = (k: Tab) => {
    setTab(k);
    history.replaceState(history.state, '', `${location.pathname}#${HASH[k]}`);
  };
  return (
    <div class="settings">
      <h1>{ts.title}</h1>
      <p class="muted small">{ts.intro}</p>
      <div class="tabs settings-tabs" role="tablist" aria-label={ts.title}>
        {tabs.map((k) => (
          <button key={k} type="button" role="tab" id={`set-tab-${k}`} aria-selected={tab === k} aria-controls={`set-${k}`} class={tab === k ? 'active' : ''} onClick={() => choose(k)}>
            {ts.tabs[k]}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`set-${tab}`} aria-labelledby={`set-tab-${tab}`}>
        {!flat ? (
          <Loading />
        ) : (
          <>
            {tab === 'users' && <UsersPanel flat={flat} />}
            {tab === 'dictionary' && <DictionaryPanel flat={flat} />}
            {tab === 'voice' && <VoicePanel flat={flat} />}
            {tab === 'offers' && <OfferTab flat={flat} />}
          </>
        )}
      </div>
    </div>
  );
}
