import { useState } from 'preact/hooks';
import { can } from '../api/auth';
import { api, ok } from '../api/client';
import { Icon } from '../components/icons';
import { Badge, Button, Card, Empty, ErrorNote, Loading, PageHead, Pager, TableWrap, toast } from '../components/ui';
import { dateTime, plural } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { useCursorPages } from '../lib/paging';
import { href, navigate, setQuery, useRoute } from '../router';
import { ProjectDialog } from './project-form';

const PAGE = 25;

export function ProjectsPage() {
  useTitle('Projects');
  const route = useRoute();
  const search = route.query.get('q') ?? '';
  const [typed, setTyped] = useState(search);
  const pages = useCursorPages(search);
  const [creating, setCreating] = useState(route.query.get('new') === '1');
  const list = useLoad(
    () =>
      ok(
        api.GET('/manage/projects', {
          params: { query: { limit: PAGE, cursor: pages.cursor, name: search || undefined } },
        }),
      ),
    [search, pages.cursor],
  );
  const rows = list.data?.data ?? [];

  return (
    <>
      <PageHead title="Projects" sub="Each project holds one upstream API key and the tokens issued for it.">
        {can('admin') && (
          <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
            New project
          </Button>
        )}
      </PageHead>
      <Card flush>
        <form
          class="toolbar"
          aria-label="Search projects"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery({ q: typed.trim() || undefined });
          }}
        >
          <div class="field">
            <label for="project-search">Search by name</label>
            <input
              id="project-search"
              class="input"
              type="search"
              value={typed}
              placeholder="team-a"
              onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
            />
          </div>
          <Button type="submit" icon="search">
            Search
          </Button>
        </form>
        {list.error !== undefined && (
          <div class="card-body">
            <ErrorNote error={list.error} onRetry={list.reload} />
          </div>
        )}
        {list.loading && !list.data ? (
          <Loading rows={5} label="Loading projects" />
        ) : rows.length === 0 ? (
          search ? (
            <Empty icon="search" title="No project matches">
              No project name contains “{search}”.
            </Empty>
          ) : (
            <Empty
              icon="projects"
              title="No projects yet"
              action={
                can('admin') && (
                  <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
                    Create the first project
                  </Button>
                )
              }
            >
              A project stores an upstream API key (encrypted). Tokens you issue for it let clients use the proxy
              without ever seeing the key.
            </Empty>
          )
        ) : (
          <>
            <TableWrap>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="hide-sm">
                      Upstream
                    </th>
                    <th scope="col" class="hide-sm">
                      Key
                    </th>
                    <th scope="col" class="num">
                      Requests
                    </th>
                    <th scope="col" class="hide-sm">
                      Created
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <a class="cell-main" href={href(`/projects/${p.id}`)}>
                          {p.name}
                        </a>
                      </td>
                      <td>{p.is_active ? <Badge tone="ok">active</Badge> : <Badge>inactive</Badge>}</td>
                      <td class="hide-sm muted">{p.base_url ?? 'default (OPENAI_API_URL)'}</td>
                      <td class="hide-sm">
                        <code>{p.api_key_hint}</code>
                      </td>
                      <td class="num">{p.request_count.toLocaleString('en-US')}</td>
                      <td class="hide-sm muted">{dateTime(p.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager pages={pages} nextCursor={list.data?.next_cursor} summary={plural(rows.length, 'project')} />
          </>
        )}
      </Card>
      {creating && (
        <ProjectDialog
          open
          onClose={() => setCreating(false)}
          onSaved={(p) => {
            setCreating(false);
            toast(`Project ${p.name} created.`);
            navigate(`/projects/${p.id}`);
          }}
        />
      )}
      <p class="muted small row">
        <Icon name="help" size={14} /> Deleting a project deletes its tokens; its usage history is kept.
      </p>
    </>
  );
}
