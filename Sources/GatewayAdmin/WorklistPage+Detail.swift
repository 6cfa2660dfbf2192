extension WorklistPage {
    /// The detail panel (an item's fields, the allocator's candidates with their verdicts, the
    /// history) and the reassign and cancel actions, in the panel and in the overdue rows: a
    /// refusal (409) is shown beside the buttons. Uses the main script's helpers at call time.
    static let detailScript = #"""
        // --- the detail panel -----------------------------------------------------------------
        const yesNo = v => v ? '<span class="yes">✓</span>' : '<span class="no">✗</span>';
        function renderDetail(d) {
          const panel = $('detail');
          if (panel.contains(document.activeElement) && document.activeElement.tagName === 'SELECT') return;
          const field = (k, v) => v == null || v === '' ? '' : '<dt>' + k + '</dt><dd>' + v + '</dd>';
          const x = d.explanation;
          let explanation = '<p class="muted">No allocation decision recorded.</p>';
          if (x && x.candidates) {
            explanation = '<p class="reason">' + (x.chosen ? '<b>' + esc(x.chosen) + '</b>: ' : '<b>No site chosen</b>: ') + esc(x.reason) +
              (x.decided_at ? ' <span class="muted">(' + esc(when(x.decided_at)) + ')</span>' : '') + '</p>' +
              '<table class="candidates"><tr><th>Site</th><th>Skill</th><th>In hours</th><th>Reachable</th><th>Load now</th><th>After</th><th>Verdict</th></tr>' +
              x.candidates.map(c => '<tr class="' + (c.site === x.chosen ? 'chosen' : '') + '" data-candidate="' + esc(c.site) + '" data-eligible="' + !!c.eligible + '"><td>' + esc(c.site) +
                (c.preferred ? '<span class="mini" title="of the origin\'s organisation">preferred</span>' : '') +
                (c.passed_over ? '<span class="mini" title="the item was taken from it before">given up</span>' : '') + '</td><td>' +
                yesNo(c.has_skill) + '</td><td>' + yesNo(c.in_hours) + '</td><td>' + yesNo(c.reachable) + '</td><td class="n">' + esc(num(c.open_effort)) + ' / ' + esc(num(c.capacity)) +
                '</td><td class="n">' + Math.round((c.load_after || 0) * 100) + '%</td><td>' +
                (c.site === x.chosen ? '<b class="yes">chosen</b>' : (c.eligible ? 'eligible; ' : '<span class="no">not eligible</span>: ') + esc(c.note)) + '</td></tr>').join('') + '</table>';
          }
          const history = (d.history || []).map(h => '<tr><td>' + esc(when(h.time)) + '</td><td>' + esc(h.event) + '</td><td>' + esc(h.actor) + '</td><td>' +
            esc(h.site) + '</td><td>' + esc(h.detail) + '</td></tr>');
          const u = OPEN.includes(d.state) ? deadline(d) : esc(new Date(d.deadline).toLocaleString());
          panel.dataset.detailId = d.id;
          panel.innerHTML = '<button type="button" class="close" title="close (Esc)">×</button><h2>' + pill(d.class) + ' Item ' + d.id + ' · ' + esc(stateName(d.state)) +
            (d.overdue ? ' <span class="tag overdue">overdue</span>' : '') + (d.orphan ? ' <span class="tag orphan">orphan</span>' : '') + '</h2>' +
            '<div data-item-id="' + d.id + '" class="detail-actions">' + actions(d) + '</div>' +
            '<dl>' + field('Study', esc(d.study_description) || '<span class="muted">not in the cache</span>') + field('Study UID', '<span class="uid">' + esc(d.study_instance_uid) + '</span>') +
            field('Accession', esc(d.accession_number)) + field('Modalities', esc(d.modalities)) + field('Instances', esc(d.instances)) +
            field('Patient ID', d.patient_id == null ? '<span class="muted">not shown (http.patient_data is off)</span>' : esc(d.patient_id)) +
            field('Origin', esc(d.origin)) + field('Rule', esc(d.rule) || '<span class="muted">none</span>') + field('Skill', esc(d.skill)) + field('Effort', esc(num(d.effort))) +
            field('Site', esc(d.site) || '<span class="muted">none</span>') + field('Reporter', esc(d.reporter)) + field('Deadline', u) +
            field('Flag', d.flag && d.flag !== ORPHAN[d.orphan] ? '<span class="flag">' + esc(d.flag) + '</span>' : '') + field('Orphan', esc(ORPHAN[d.orphan] || d.orphan)) +
            field('Arrived', esc(when(d.arrived_at))) + field('Allocated', esc(when(d.allocated_at))) + field('Started', esc(when(d.started_at))) +
            field('Escalated', esc(when(d.escalated_at))) + field('Reported', esc(when(d.reported_at)) + (d.reported_by ? ' by ' + esc(d.reported_by) : '')) +
            field('Returned', esc(when(d.returned_at))) + field('Cancelled', esc(when(d.cancelled_at))) + '</dl>' +
            '<h3>Why it went where it went</h3><div id="explanation">' + explanation + '</div>' +
            '<h3>History</h3><table id="history"><tr><th>Time</th><th>Event</th><th>Actor</th><th>Site</th><th>Detail</th></tr>' +
            (history.length ? history.join('') : '<tr><td colspan="5" class="muted">none</td></tr>') + '</table>';
          panel.hidden = false;
        }
        function openDetail(id) {
          ui.item = String(id); writeHash();
          for (const tr of document.querySelectorAll('tr.item')) tr.classList.toggle('selected', tr.dataset.itemId === ui.item);
          $('detail').hidden = false;
          $('detail').innerHTML = '<p class="muted">loading item ' + esc(id) + '…</p>';
          loadDetail();
        }
        function closeDetail() {
          ui.item = ''; writeHash();
          $('detail').hidden = true;
          for (const tr of document.querySelectorAll('tr.item.selected')) tr.classList.remove('selected');
        }
        async function loadDetail() {
          const id = ui.item;
          if (!id) return;
          try {
            const d = await get('/api/v1/worklist/' + encodeURIComponent(id));
            if (ui.item === id) renderDetail(d);
          } catch (e) {
            if (ui.item === id) $('detail').innerHTML = '<button type="button" class="close">×</button><p class="err">' + esc(e.message) + '</p>';
          }
        }

        // --- reassign and cancel --------------------------------------------------------------
        function showMessage(id, msg, bad) {
          // Shown until the next action, or a minute for a refusal and 15 s for a success.
          pending[id] = Object.assign(pending[id] || {}, {msg, bad, until: Date.now() + (bad ? 60000 : 15000)});
          for (const el of document.querySelectorAll('[data-item-id="' + id + '"] .action-msg')) {
            el.textContent = msg; el.className = 'action-msg ' + (bad ? 'err' : 'ok');
          }
        }
        async function act(id, action, body, done) {
          showMessage(id, action === 'reassign' ? 'reassigning…' : 'cancelling…', false);
          try {
            const r = await post('/api/v1/worklist/' + encodeURIComponent(id) + '/' + action, body);
            if (r.ok) {
              pending[id] = {msg: done, bad: false, until: Date.now() + 15000};
            } else {
              showMessage(id, (r.status === 409 ? 'Refused: ' : 'HTTP ' + r.status + ': ') + (r.answer.error || 'no reason given'), true);
              return;
            }
          } catch (e) {
            showMessage(id, e.message, true);
            return;
          }
          refresh();
        }
        document.addEventListener('change', e => {
          const select = e.target.closest('select.reassign-site');
          if (!select) return;
          const id = select.closest('[data-item-id]').dataset.itemId;
          pending[id] = Object.assign(pending[id] || {}, {site: select.value, msg: ''});
        });
        document.addEventListener('click', e => {
          if (e.target.closest('#detail .close')) { closeDetail(); return; }
          const holder = e.target.closest('[data-item-id]');
          if (!holder) return;
          const id = holder.dataset.itemId;
          if (e.target.closest('button.reassign')) {
            const site = holder.querySelector('select.reassign-site').value;
            if (!site) { showMessage(id, 'Choose a site first.', true); return; }
            act(id, 'reassign', {site}, 'Reassigned to ' + site + '.');
          } else if (e.target.closest('button.cancel')) {
            const reason = prompt('Cancel item ' + id + ': why does this study need no report?');
            if (reason === null) return;
            if (!reason.trim()) { showMessage(id, 'A cancel needs a reason.', true); return; }
            act(id, 'cancel', {reason}, 'Cancelled.');
          } else if (holder.matches('tr.item') && !e.target.closest('select, button, a')) {
            openDetail(id);
          }
        });
        document.addEventListener('keydown', e => { if (e.key === 'Escape' && !$('detail').hidden) closeDetail(); });

        """#
}
