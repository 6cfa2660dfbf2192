/// Script shared by the operators' pages: `get` and `post` against the API, asking once per tab
/// for the API token when it answers 401 and keeping it in sessionStorage.
enum PageScripts {
    static let api = #"""
        let asked = false;
        async function get(path) {
          const headers = {};
          const token = sessionStorage.getItem('token');
          if (token) headers['Authorization'] = 'Bearer ' + token;
          const r = await fetch(path, {headers});
          if (r.status === 401 && !asked) {
            asked = true;
            const t = prompt('API token (from http.tokens, or the first line of http.token_file)');
            if (t) { sessionStorage.setItem('token', t); asked = false; return get(path); }
          }
          if (!r.ok) {
            let why = '';
            try { why = (await r.json()).error || ''; } catch (e) {}
            const error = new Error(path + ': HTTP ' + r.status + (why ? ' ' + why : '') + (r.status === 401 ? ' (reload the page to enter the token)' : r.status === 403 ? ' (this token\'s role does not allow it)' : ''));
            error.status = r.status;
            throw error;
          }
          return r.json();
        }
        async function post(path, body) {
          const headers = {'Content-Type': 'application/json'};
          const token = sessionStorage.getItem('token');
          if (token) headers['Authorization'] = 'Bearer ' + token;
          const r = await fetch(path, {method: 'POST', headers, body: JSON.stringify(body)});
          let answer = {};
          try { answer = await r.json(); } catch (e) {}
          return {ok: r.ok, status: r.status, answer};
        }
        """#
}
