import Hummingbird
import NIOCore

/// The dashboard: one self-contained page that reads the API every five seconds. On a cluster
/// (PostgreSQL index), its gateway nodes: which leads, when each was last heard from and what
/// each holds (deliveries it is sending, drawn as bars; association slots; fetches). Nodes with
/// their waiting and dead work (a button replays a node's dead deliveries), the queue per
/// destination and class, recent studies and the audit trail. Where the API needs a token the
/// page asks for it once and keeps it for the tab.
enum DashboardPage {
    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>dicom-gateway</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
        h1{font-size:1.3em;margin:0 0 .2em} h1 a{font-size:.7em;font-weight:400;margin-left:.8em} h2{font-size:1.05em;margin:1.4em 0 .4em}
        table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #ddd}
        th{background:#f3f3f3} td.n{text-align:right;font-variant-numeric:tabular-nums}
        .stat{color:#b00020;font-weight:600} .urgent{color:#b35c00;font-weight:600} .dead,.quarantined{color:#b00020}
        #status{color:#555} .err{color:#b00020}
        .bar{display:inline-block;height:.8em;background:#3b6ea8;vertical-align:middle;margin-right:.4em}
        tr.gone td{color:#b00020}
        </style></head><body>
        <h1>dicom-gateway <a href="/dashboard/worklist" id="worklist-link">reporting worklist</a></h1><div id="status">loading…</div>
        <section id="cluster-section" hidden><h2>Cluster</h2><table id="cluster"></table></section>
        <h2>Nodes</h2><table id="nodes"></table>
        <h2>Queue</h2><table id="queue"></table>
        <h2>Recent studies</h2><table id="studies"></table>
        <h2>Audit</h2><table id="audit"></table>
        <script>
        const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
        const age = s => s == null ? '' : s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
        function table(id, head, rows) {
          document.getElementById(id).innerHTML = '<tr>' + head.map(h => '<th>' + h + '</th>').join('') + '</tr>' +
            (rows.length ? rows.join('') : '<tr><td colspan="' + head.length + '">none</td></tr>');
        }
        \(PageScripts.api)
        async function replayDead(node) {
          if (!confirm('Queue every dead delivery to ' + node + ' again, with a fresh retry budget?')) return;
          const r = await post('/api/v1/deliveries/replay', {destination: node});
          alert(r.ok ? 'Replayed ' + r.answer.changed + ' deliveries to ' + node : 'Refused: ' + r.answer.error);
          refresh();
        }
        async function refresh() {
          try {
            // One after another: with a token, the first refused request asks for it once.
            const nodes = await get('/api/v1/nodes');
            const health = await get('/health');
            const queue = await get('/api/v1/queues');
            const studies = await get('/api/v1/studies?limit=25');
            const audit = await get('/api/v1/audit?limit=25');
            document.getElementById('status').textContent = health.ae_title + ' on DICOM port ' + health.dicom_port +
              ' · index ' + health.index + ' (' + health.index_engine + ') · node ' + health.node + ' · storage ' + health.storage +
              ' · up ' + age(health.uptime_seconds) + ' · ' + new Date().toLocaleTimeString();
            const clustered = health.index_engine === 'postgresql';
            document.getElementById('cluster-section').hidden = !clustered;
            if (clustered) {
              const cluster = await get('/api/v1/cluster');
              const most = Math.max(1, ...cluster.map(c => c.deliveries_in_flight));
              table('cluster', ['Node', 'Role', 'Address', 'Last heard', 'Sending now', 'Association slots', 'Fetching'], cluster.map(c =>
                '<tr class="' + (c.alive ? 'alive' : 'gone') + '" data-node="' + esc(c.node) + '"><td>' + esc(c.node) +
                (c.node === health.node ? ' (this node)' : '') + '</td><td>' + (c.leader ? 'leader' : c.alive ? 'member' : 'not heard from') +
                '</td><td>' + esc(c.address) + '</td><td>' + age(Math.max(0, Math.round((Date.now() - Date.parse(c.heartbeat_at)) / 1000))) +
                ' ago</td><td class="n"><span class="bar" style="width:' + Math.round(80 * c.deliveries_in_flight / most) + 'px"></span>' +
                c.deliveries_in_flight + '</td><td>' + esc(c.slots.join(', ')) + '</td><td class="n">' + c.fetching + '</td></tr>'));
            }
            table('nodes', ['Node', 'AE title', 'Address', 'Roles', 'Waiting', 'Dead', 'Quarantined', 'Oldest'], nodes.map(n =>
              '<tr><td>' + esc(n.name) + '</td><td>' + esc(n.ae_title) + '</td><td>' + esc(n.host ? n.host + ':' + n.port : '') +
              '</td><td>' + esc(n.roles.join(', ')) + '</td><td class="n">' + n.waiting + '</td><td class="n' + (n.dead ? ' dead' : '') +
              '">' + n.dead + (n.dead ? ' <button data-node="' + esc(n.name) + '">replay</button>' : '') + '</td><td class="n' +
              (n.quarantined ? ' dead' : '') + '" title="instances that crashed the gateway or break the input limits: never retried by themselves">' +
              n.quarantined + '</td><td>' +
              age(n.oldest_waiting_age_seconds) + '</td></tr>'));
            for (const b of document.querySelectorAll('#nodes button')) b.onclick = () => replayDead(b.dataset.node);
            table('queue', ['Destination', 'Class', 'State', 'Count', 'Oldest'], queue.map(q =>
              '<tr><td>' + esc(q.destination) + '</td><td class="' + esc(q.class) + '">' + esc(q.class) + '</td><td class="' +
              esc(q.state) + '">' + esc(q.state) + '</td><td class="n">' + q.count + '</td><td>' + age(q.oldest_age_seconds) + '</td></tr>'));
            table('studies', ['Received', 'Study date', 'Modalities', 'Description', 'From', 'Instances', 'Undelivered', 'Dead', 'Study UID'],
              studies.map(s => '<tr><td>' + esc(new Date(s.received_at).toLocaleString()) + '</td><td>' + esc(s.study_date) + '</td><td>' +
              esc(s.modalities) + '</td><td>' + esc(s.study_description) + '</td><td>' + esc(s.origin_node) + '</td><td class="n">' +
              s.instance_count + '</td><td class="n">' + s.undelivered + '</td><td class="n' + (s.dead ? ' dead' : '') + '">' + s.dead +
              '</td><td>' + esc(s.study_instance_uid) + '</td></tr>'));
            table('audit', ['Time', 'Event', 'Outcome', 'Actor', 'Peer', 'Detail'], audit.map(a =>
              '<tr><td>' + esc(new Date(a.time).toLocaleString()) + '</td><td>' + esc(a.event) + '</td><td>' + esc(a.outcome) +
              '</td><td>' + esc(a.actor) + '</td><td>' + esc(a.peer) + '</td><td>' + esc(a.detail) + '</td></tr>'));
          } catch (e) {
            document.getElementById('status').innerHTML = '<span class="err">' + esc(e.message) + '</span>';
          }
        }
        refresh(); setInterval(refresh, 5000);
        </script></body></html>
        """
}
