import Hummingbird
import NIOCore

/// The reporting worklist page a network's workflow coordinator keeps open all day, at
/// `/dashboard/worklist`: overdue items and orphans first (reassign or cancel them in place),
/// open items by time to deadline with filters and paging, each reporter site's load against its
/// capacity, and a chart of turnaround per class over 24 hours or 7 days. Clicking an item shows
/// why it went where it went (the allocator's candidates) and its history.
///
/// One self-contained page (inline CSS and JavaScript, no other network than this API) that reads
/// `/api/v1/worklist...` every five seconds and keeps the user's filters, page and open item in
/// the address's fragment. Token handling is the dashboard's: asked once when the API answers 401,
/// kept for the tab. No patient names: the API has none; the Patient ID (when `http.patient_data`
/// is on) appears only in the item's detail panel.
///
/// Elements carry stable hooks for the browser test: `data-item-id`, `data-kind` (overdue, orphan),
/// `data-site`, `data-class`, `#turnaround-chart path.series[data-class]`.
enum WorklistPage {
    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let html = head + style + body + "<script>\n'use strict';\n" + chartScript + detailScript + script + "\n</script></body></html>\n"

    private static let head = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Reporting worklist · dicom-gateway</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">

        """#

    private static let body = #"""
        </head><body>
        <header id="top">
          <div class="title"><h1>Reporting worklist</h1><a href="/dashboard">gateway dashboard</a></div>
          <div id="updated" class="updated">loading…</div>
        </header>
        <main>
        <div id="summary" class="chips"></div>
        <section id="attention" class="band calm">
          <h2>Needs attention <span class="count" id="attention-count"></span></h2>
          <table id="attention-table" class="items"></table>
        </section>
        <div class="layout">
        <section id="open">
          <h2>Open items by time to deadline <span class="count" id="open-count"></span></h2>
          <div class="filters" id="filters">
            <label>Site <select id="f-site" data-filter="site"></select></label>
            <label>Skill <select id="f-skill" data-filter="skill"></select></label>
            <label>Class <select id="f-class" data-filter="class"></select></label>
            <label>State <select id="f-state" data-filter="state"></select></label>
            <label>Origin <select id="f-origin" data-filter="origin"></select></label>
            <button id="f-clear" type="button" title="clear the filters">Clear</button>
          </div>
          <table id="open-table" class="items"></table>
          <div class="pager" id="pager"><button id="prev" type="button">‹ Previous</button>
            <span id="page-info"></span><button id="next" type="button">Next ›</button></div>
        </section>
        <div class="side">
        <section id="sites"><h2>Site load against capacity</h2><div id="site-bars"></div></section>
        <section id="turnaround"><h2>Turnaround per class
          <span class="toggle" id="window-toggle"><button type="button" data-window="24h">24 h</button><button type="button" data-window="7d">7 days</button></span></h2>
          <div id="chart"></div></section>
        </div>
        </div>
        </main>
        <aside id="detail" hidden></aside>

        """#
}
