/**
 * "Cảnh báo thiên tai" (issue 18): the disaster warnings of the user's area — the list (pending first, with
 * their count), one warning with its reach live while it airs and its as-run, the province's warning form
 * with its preview, and the CAP sources with their policy. Everyone reads the list (the server scopes it);
 * approvers and province admins write, approve, reject and stop warnings; installation-wide province admins
 * manage sources (the server's source routes answer them only).
 * `/canh-bao?ma=<id>` opens one warning; `#soan` and `#nguon` open the form and the sources.
 */
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from '../../app/router.js';
import { useSession } from '../../app/session.js';
import { can } from '../../logic/roles.js';
import { WARNING_PARAM } from '../../logic/routes.js';
import { WarningDetail } from './WarningDetail.js';
import { WarningForm } from './WarningForm.js';
import { WarningList } from './WarningList.js';
import { WarningSources } from './WarningSources.js';
import { tw } from './warnings-vi.js';
import './warnings.css';

const TABS = ['list', 'form', 'sources'] as const;
type Tab = (typeof TABS)[number];
const HASH: Record<Tab, string> = { list: 'danh-sach', form: 'soan', sources: 'nguon' };

function tabFromHash(): Tab {
  const h = location.hash.replace(/^#/, '');
  return TABS.find((k) => HASH[k] === h) ?? 'list';
}

export default function WarningsView() {
  const { me } = useSession();
  const loc = useLocation();
  const [tab, setTab] = useState<Tab>(tabFromHash);
  const mayIssue = can(me.role, 'issue-warning');
  const tabs = TABS.filter((k) => k === 'list' || (k === 'form' && mayIssue) || (k === 'sources' && can(me.role, 'manage-warning-sources') && me.areaCode === null));
  const open = loc.search.get(WARNING_PARAM);
  const current = tabs.includes(tab) ? tab : 'list';
  // Back from a warning (its link has no hash): the list, not the tab open before.
  useEffect(() => {
    if (!open) setTab(tabFromHash());
  }, [open]);

  const choose = (k: Tab) => {
    setTab(k);
    history.replaceState(history.state, '', `${location.pathname}#${HASH[k]}`);
  };

  return (
    <div class="warnings">
      <h1>{tw.title}</h1>
      {open ? (
        <WarningDetail key={open} id={open} mayAct={mayIssue} />
      ) : (
        <>
          <p class="muted small">{tw.intro}</p>
          {tabs.length > 1 && (
            <div class="tabs nat-tabs" role="tablist" aria-label={tw.title}>
              {tabs.map((k) => (
                <button key={k} type="button" role="tab" id={`wrn-tab-${k}`} aria-selected={current === k} aria-controls={`wrn-${k}`} class={current === k ? 'active' : ''} onClick={() => choose(k)}>
                  {tw.tabs[k]}
                </button>
              ))}
            </div>
          )}
          <div role="tabpanel" id={`wrn-${current}`} aria-labelledby={`wrn-tab-${current}`}>
            {current === 'list' && <WarningList />}
            {current === 'form' && <WarningForm />}
            {current === 'sources' && <WarningSources />}
          </div>
        </>
      )}
    </div>
  );
}
