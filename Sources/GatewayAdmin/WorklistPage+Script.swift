extension WorklistPage {
    /// The page's JavaScript, less the chart and the detail panel: reading the API (the
    /// dashboard's token handling), the tables, filters and paging, site loads, the summary and
    /// the refresh. Everything the API returns is escaped before it reaches the page.
    static let script = #"""
        const $ = id => document.getElementById(id);
        const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
        const CLASSES = ['stat', 'urgent', 'routine', 'bulk'];
        const OPEN = ['scheduled', 'allocated', 'in_progress'];
        const STATES = ['scheduled', 'allocated', 'in_progress', 'reported', 'returned', 'cancelled'];
        const ORPHAN = {no_rule: 'matched no reporting rule', report_not_returned: 'report not returned to the origin'};
        const PAGE = 25;

        // What the user chose; kept in the address's fragment so a reload keeps it too.
        const ui = {site: '', skill: '', class: '', state: 'open', origin: '', offset: 0, window: '24h', item: ''};
        (function readHash() {
          const p = new URLSearchParams(location.hash.slice(1));
          for (const k of Object.keys(ui)) if (p.has(k)) ui[k] = k === 'offset' ? Math.max(0, parseInt(p.get(k), 10) || 0) : p.get(k);
          if (!['24h', '7d'].includes(ui.window)) ui.window = '24h';
        })();
        function writeHash() {
          const p = new URLSearchParams();
          for (const [k, v] of Object.entries(ui)) if (v !== '' && v !== 0 && !(k === 'state' && v === 'open') && !(k === 'window' && v === '24h')) p.set(k, v);
          history.replaceState(null, '', location.pathname + location.search + (p.toString() ? '#' + p : ''));
        }

        // --- the API, with the dashboard's token handling (PageScripts.api) -------------------
        \#(PageScripts.api)

        // --- formatting -----------------------------------------------------------------------
        function dur(seconds) {
          const s = Math.abs(Math.round(seconds));
          if (s < 90) return s + ' s';
          const m = Math.round(s / 60);
          if (m < 90) return m + ' min';
          const h = Math.floor(m / 60), mm = m % 60;
          if (h < 48) return h + ' h' + (mm ? ' ' + mm + ' min' : '');
          const d = Math.floor(h / 24), hh = h % 24;
          return d + ' d' + (hh ? ' ' + hh + ' h' : '');
        }
        function when(iso) {
          if (!iso) return '';
          const d = new Date(iso), now = new Date();
          const hm = d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
          return d.toDateString() === now.toDateString() ? hm : d.toLocaleDateString([], {weekday: 'short', day: 'numeric', month: 'short'}) + ' ' + hm;
        }
        const ago = iso => iso ? dur((Date.now() - Date.parse(iso)) / 1000) + ' ago' : '';
        const stateName = s => String(s || '').replace('_', ' ');
        const pill = c => '<span class="cls cls-' + esc(c) + '">' + esc(c) + '</span>';
        const shortUID = u => u && u.length > 24 ? u.slice(0, 10) + '…' + u.slice(-10) : (u || '');
        const num = x => x == null ? '' : (Math.round(x * 100) / 100).toString();
        function study(it) {
          const title = it.study_description ? esc(it.study_description)
            : '<span class="muted">' + (it.instances == null ? 'study not in the cache' : 'no description') + '</span>';
          const parts = [];
          if (it.accession_number) parts.push('Acc ' + esc(it.accession_number));
          if (it.modalities) parts.push(esc(String(it.modalities).replace(/\\/g, '/')));
          parts.push('<span class="uid" title="' + esc(it.study_instance_uid) + '">' + esc(shortUID(it.study_instance_uid)) + '</span>');
          return '<div class="desc">' + title + '</div><div class="sub">' + parts.join(' · ') + '</div>';
        }
        // How much of the time from arrival to deadline is left: green over half, yellow over a
        // quarter, amber under a quarter, red when late.
        function urgency(it) {
          if (it.overdue || it.seconds_to_deadline <= 0) return {level: 'late', left: 0};
          const total = (Date.parse(it.deadline) - Date.parse(it.arrived_at)) / 1000;
          const left = total > 0 ? Math.min(1, it.seconds_to_deadline / total) : 0;
          return {level: left > 0.5 ? 'ok' : left >= 0.25 ? 'soon' : 'close', left};
        }
        function deadline(it) {
          if (!OPEN.includes(it.state)) {
            const done = it.reported_at || it.cancelled_at;
            return '<span class="muted">' + esc(stateName(it.state)) + (done ? ' ' + esc(when(done)) : '') + '</span>';
          }
          if (it.rule == null && it.orphan) return '<span class="muted" data-urgency="none">no deadline (no rule)</span>';
          const u = urgency(it);
          const text = u.level === 'late' ? dur(-it.seconds_to_deadline) + ' late' : 'in ' + dur(it.seconds_to_deadline);
          return '<div class="dl dl-' + u.level + '" data-urgency="' + u.level + '" title="deadline ' + esc(new Date(it.deadline).toLocaleString()) +
            '"><div class="dl-bar"><span style="width:' + (u.level === 'late' ? 100 : Math.max(3, u.left * 100)).toFixed(1) + '%"></span></div>' +
            '<span class="dl-text">' + esc(text) + '</span></div>';
        }
        function table(el, head, rows, empty) {
          el.innerHTML = '<tr>' + head.map(h => '<th>' + h + '</th>').join('') + '</tr>' +
            (rows.length ? rows.join('') : '<tr><td colspan="' + head.length + '" class="muted">' + empty + '</td></tr>');
        }

        // --- what the page holds --------------------------------------------------------------
        let sites = [];           // from /worklist/sites
        let origins = new Set();  // source nodes and every origin seen
        const pending = {};       // item id -> {site, msg, bad, until}: a reassign choice or an action's answer
        let lastGood = null;

        function sitesFor(it) {
          const skilled = sites.filter(s => s.configured !== false && (!it.skill || (s.skills || []).includes(it.skill)));
          return skilled;
        }
        function actions(it) {
          if (!OPEN.includes(it.state)) return '<span class="muted">' + esc(stateName(it.state)) + '</span>';
          const keep = pending[it.id] || {};
          if (keep.msg && !(Date.now() < keep.until)) keep.msg = '';
          const choices = sitesFor(it);
          const select = choices.length
            ? '<select class="reassign-site" aria-label="site to reassign to"><option value="">Reassign to…</option>' +
              choices.map(s => '<option value="' + esc(s.site) + '"' + (s.site === keep.site ? ' selected' : '') + (s.site === it.site ? ' disabled' : '') +
                '>' + esc(s.site) + (s.site === it.site ? ' (now)' : '') + '</option>').join('') + '</select> <button type="button" class="reassign">Reassign</button>'
            : '<span class="muted">no site reports ' + esc(it.skill || 'it') + '</span>';
          return select + ' <button type="button" class="cancel">Cancel…</button>' +
            '<div class="action-msg' + (keep.msg ? (keep.bad ? ' err' : ' ok') : '') + '" role="status">' + esc(keep.msg || '') + '</div>';
        }

        // --- overdue items and orphans --------------------------------------------------------
        function attentionRow(it) {
          const kind = it.overdue ? 'overdue' : 'orphan';
          const tags = (it.overdue ? '<span class="tag overdue">overdue</span> ' : '') + (it.orphan ? '<span class="tag orphan">orphan</span>' : '');
          let late;
          if (it.overdue) late = '<span class="late">' + esc(dur(-it.seconds_to_deadline)) + ' late</span>';
          else if (it.orphan === 'report_not_returned') late = 'reported ' + esc(ago(it.reported_at));
          else late = 'arrived ' + esc(ago(it.arrived_at));
          const why = [];
          if (it.orphan) why.push(esc(ORPHAN[it.orphan] || it.orphan));
          if (it.flag && it.flag !== ORPHAN[it.orphan]) why.push('<span class="flag">' + esc(it.flag) + '</span>');
          return '<tr class="item ' + kind + (ui.item === String(it.id) ? ' selected' : '') + '" data-item-id="' + it.id + '" data-kind="' + kind +
            '" data-overdue="' + !!it.overdue + '" data-orphan="' + esc(it.orphan || '') + '" data-class="' + esc(it.class) + '" data-site="' + esc(it.site || '') + '">' +
            '<td>' + tags + '</td><td>' + pill(it.class) + '</td><td>' + study(it) + '</td><td>' + esc(it.origin || '—') + '</td><td>' +
            (it.site ? esc(it.site) : '<span class="muted">none</span>') + '</td><td class="n">' + late + '</td><td class="state">' + esc(stateName(it.state)) +
            '</td><td>' + (why.join('<br>') || '<span class="muted">—</span>') + '</td><td class="actions">' + actions(it) + '</td></tr>';
        }
        function renderAttention(overdue, orphans) {
          const seen = new Set(), rows = [];
          for (const it of overdue.items.concat(orphans.items)) if (!seen.has(it.id)) { seen.add(it.id); rows.push(it); }
          const el = $('attention-table');
          // A reassign choice being made is not swept away by the refresh.
          if (el.contains(document.activeElement) && document.activeElement.tagName === 'SELECT') return;
          table(el, ['Problem', 'Class', 'Study', 'Origin', 'Site', 'How late', 'State', 'Why', 'Action'], rows.map(attentionRow),
                'Nothing overdue, no orphans.');
          const band = $('attention');
          band.className = 'band ' + (overdue.total ? 'alarm' : orphans.total ? 'amber' : 'calm');
          $('attention-count').textContent = overdue.total + ' overdue · ' + orphans.total + ' orphan' + (orphans.total === 1 ? '' : 's') +
            (overdue.total > overdue.items.length || orphans.total > orphans.items.length ? ' (showing the first ' + rows.length + ')' : '');
        }

        // --- open items -----------------------------------------------------------------------
        function openQuery() {
          const p = new URLSearchParams();
          for (const k of ['site', 'skill', 'class', 'origin']) if (ui[k]) p.set(k, ui[k]);
          if (ui.state === 'open') p.set('state', OPEN.join(','));
          else if (ui.state !== 'all') p.set('state', ui.state);
          p.set('limit', PAGE);
          p.set('offset', ui.offset);
          return '/api/v1/worklist?' + p.toString().replace(/%2C/g, ',');
        }
        function openRow(it) {
          return '<tr class="item' + (ui.item === String(it.id) ? ' selected' : '') + '" data-item-id="' + it.id + '" data-class="' + esc(it.class) +
            '" data-site="' + esc(it.site || '') + '" data-state="' + esc(it.state) + '">' +
            '<td>' + pill(it.class) + '</td><td>' + study(it) + (it.flag ? '<div class="flag">' + esc(it.flag) + '</div>' : '') + '</td><td>' +
            esc(it.origin || '—') + '</td><td>' + esc(it.skill || '—') + '</td><td class="site">' + (it.site ? esc(it.site) : '<span class="muted">unallocated</span>') +
            '</td><td class="state">' + esc(stateName(it.state)) + (it.reporter ? '<div class="sub">' + esc(it.reporter) + '</div>' : '') + '</td><td>' +
            deadline(it) + '</td><td class="n">' + num(it.effort) + '</td></tr>';
        }
        function renderOpen(list) {
          table($('open-table'), ['Class', 'Study', 'Origin', 'Skill', 'Site', 'State', 'Deadline', 'Effort'], list.items.map(openRow),
                'No items match these filters.');
          const first = list.total ? list.offset + 1 : 0, last = list.offset + list.items.length;
          $('open-count').textContent = list.total + ' item' + (list.total === 1 ? '' : 's');
          $('page-info').textContent = list.total ? first + '–' + last + ' of ' + list.total : '';
          $('prev').disabled = list.offset === 0;
          $('next').disabled = last >= list.total;
          $('pager').hidden = list.total <= PAGE && list.offset === 0;
        }

        // --- filters --------------------------------------------------------------------------
        function setOptions(select, options, value) {
          if (value && !options.some(o => o[0] === value)) options.push([value, value]);
          const html = options.map(o => '<option value="' + esc(o[0]) + '">' + esc(o[1]) + '</option>').join('');
          if (select.dataset.options !== html) { select.innerHTML = html; select.dataset.options = html; }
          select.value = value;
        }
        function renderFilters() {
          const all = label => [['', label]];
          const skills = [...new Set(sites.flatMap(s => s.skills || []))].sort();
          setOptions($('f-site'), all('all sites').concat(sites.map(s => [s.site, s.site])), ui.site);
          setOptions($('f-skill'), all('all skills').concat(skills.map(s => [s, s])), ui.skill);
          setOptions($('f-class'), all('all classes').concat(CLASSES.map(c => [c, c])), ui.class);
          setOptions($('f-state'), [['open', 'open'], ['all', 'any state']].concat(STATES.map(s => [s, stateName(s)])), ui.state);
          setOptions($('f-origin'), all('all origins').concat([...origins].sort().map(o => [o, o])), ui.origin);
        }
        for (const select of document.querySelectorAll('#filters select')) {
          select.addEventListener('change', () => { ui[select.dataset.filter] = select.value; ui.offset = 0; writeHash(); refresh(); });
        }
        $('f-clear').onclick = () => { Object.assign(ui, {site: '', skill: '', class: '', state: 'open', origin: '', offset: 0}); writeHash(); refresh(); };
        $('prev').onclick = () => { ui.offset = Math.max(0, ui.offset - PAGE); writeHash(); refresh(); };
        $('next').onclick = () => { ui.offset += PAGE; writeHash(); refresh(); };

        // --- sites ----------------------------------------------------------------------------
        function renderSites() {
          const scale = Math.min(3, Math.max(1.25, ...sites.map(s => (s.load || 0) * 1.05)));
          const pct = x => (Math.min(x, scale) / scale * 100).toFixed(1) + '%';
          $('site-bars').innerHTML = sites.length ? sites.map(s => {
            const load = s.load ?? 0;
            const hours = s.configured === false ? '<span class="badge gone">no longer configured</span>'
              : '<span class="badge ' + (s.in_hours_now ? 'in' : 'out') + '" title="' + esc(s.hours ? 'hours ' + s.hours : 'no hours set: always working') + '">' +
                (s.in_hours_now ? 'in hours' : 'out of hours') + (s.hours ? ' · ' + esc(s.hours) : '') + '</span>';
            return '<div class="site" data-site="' + esc(s.site) + '" data-load="' + load.toFixed(3) + '"><div class="site-head"><b>' + esc(s.site) + '</b>' + hours +
              (s.on_demand ? '<span class="badge out">on demand</span>' : '') + '<span class="skills">' + esc((s.skills || []).join(', ')) + '</span></div>' +
              '<div class="load-track" title="load ' + Math.round(load * 100) + '% of capacity"><div class="load-bar' + (load > 1 ? ' over' : load >= 0.75 ? ' high' : '') +
              '" style="width:' + pct(load) + '"></div><div class="cap-marker" style="left:' + pct(1) + '"></div></div>' +
              '<div class="site-foot">' + esc(num(s.open_effort)) + ' of ' + esc(num(s.capacity)) + ' effort · <b>' + (s.load == null ? '—' : Math.round(load * 100) + '%') + '</b> · ' +
              s.open_items + ' open item' + (s.open_items === 1 ? '' : 's') +
              (s.failing_items ? ' · <span class="failing">' + s.failing_items + ' with failing deliveries</span>' : ' · deliveries fine') + '</div></div>';
          }).join('') : '<p class="muted">No reporter sites are configured (nodes with the role reporter).</p>';
        }

        // --- summary --------------------------------------------------------------------------
        function renderSummary(s) {
          const chip = (label, n, bad) => '<span class="chip' + (n && bad ? ' ' + bad : '') + '">' + label + ' <b>' + n + '</b></span>';
          const st = s.by_state || {}, bc = s.by_class || {};
          $('summary').innerHTML = chip('overdue', s.overdue, 'bad') + chip('orphans', s.orphans, 'warn') +
            OPEN.map(k => chip(stateName(k), st[k] || 0)).join('') + chip('reported, not yet home', st.reported || 0) +
            '<span class="chip" title="open items by class">open by class' + CLASSES.map(c => '<i style="background:var(--' + c + ')"></i>' + c + ' <b>' + (bc[c] || 0) + '</b>').join('') +
            '</span>' + chip('notifications waiting', s.notifications_pending, 'warn');
        }

        // --- refresh --------------------------------------------------------------------------
        let running = false, again = false;
        async function refresh() {
          if (running) { again = true; return; }
          running = true;
          const errors = [];
          const settle = async (promise, use) => { try { use(await promise); } catch (e) { errors.push(e.message); } };
          try {
            // The first request alone: with a token, a refused one asks for it once.
            await settle(get('/api/v1/worklist/summary'), renderSummary);
            const query = openQuery();
            let overdue = null, orphans = null;
            await Promise.all([
              settle(get('/api/v1/worklist/sites'), v => { sites = v.sites || []; renderSites(); }),
              settle(get('/api/v1/nodes'), nodes => { for (const n of nodes) if ((n.roles || []).includes('source')) origins.add(n.name); }),
              settle(get('/api/v1/worklist?overdue=true&limit=100'), v => { overdue = v; }),
              settle(get('/api/v1/worklist?orphan=true&state=' + OPEN.concat('reported').join(',') + '&limit=100'), v => { orphans = v; }),
              settle(get(query), v => {
                for (const it of v.items) if (it.origin) origins.add(it.origin);
                if (query !== openQuery()) return;  // the filters changed meanwhile; the next pass shows them
                if (v.total && ui.offset >= v.total) { ui.offset = Math.floor((v.total - 1) / PAGE) * PAGE; writeHash(); again = true; }
                renderOpen(v);
              }),
              settle(get('/api/v1/worklist/turnaround?window=' + ui.window), drawChart),
              loadDetail(),
            ]);
            if (overdue && orphans) {
              for (const it of overdue.items.concat(orphans.items)) if (it.origin) origins.add(it.origin);
              renderAttention(overdue, orphans);
            }
            renderFilters();
            const stamp = new Date().toLocaleTimeString();
            const el = $('updated');
            if (errors.length) {
              el.className = 'updated err';
              el.textContent = 'Update failed at ' + stamp + ': ' + errors[0] + (lastGood ? ' (the rest is from ' + lastGood + ')' : '');
            } else {
              lastGood = stamp;
              el.className = 'updated';
              el.innerHTML = 'Last updated <time id="last-updated">' + esc(stamp) + '</time>';
            }
          } finally {
            running = false;
            if (again) { again = false; refresh(); }
          }
        }
        for (const b of document.querySelectorAll('#window-toggle button')) {
          b.onclick = () => { ui.window = b.dataset.window; writeHash(); markWindow(); refresh(); };
        }
        function markWindow() { for (const b of document.querySelectorAll('#window-toggle button')) b.classList.toggle('on', b.dataset.window === ui.window); }
        markWindow();
        if (ui.item) $('detail').hidden = false;
        refresh(); setInterval(refresh, 5000);

        """#
}
