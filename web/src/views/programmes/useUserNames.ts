/**
 * Who saved a programme's versions: the API gives user ids, and only admins may read users
 * (`GET /api/v1/users/{id}`), so the logged-in user is named from the session, admins look others up, and
 * everyone else reads "another user" rather than an id that means nothing to them.
 */
import { useLookup } from '../../app/lookup.js';
import { useSession } from '../../app/session.js';
import { t } from '../../i18n/vi.js';
import { can } from '../../logic/roles.js';

export function useUserNames(ids: readonly (string | null)[]): (id: string | null) => string | null {
  const { api, me } = useSession();
  const admin = can(me.role, 'manage-users');
  const others = admin ? ids.filter((id): id is string => !!id && id !== me.id) : [];
  const names = useLookup('user', others, async (id) => (await api.user(id)).username);
  return (id) => {
    if (!id) return null;
    if (id === me.id) return me.username;
    const name = names.get(id);
    return name && name !== id ? name : t.programmes.otherUser;
  };
}
