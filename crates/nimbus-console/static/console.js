// Nimbus console: progressive enhancement of the upload form. Without this file the form
// posts every file at once; with it, files can be dropped, and each one is sent in a request
// of its own with a progress bar. No other script runs on the console's pages.
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = document.getElementById('files');
  var zone = document.getElementById('dropzone');
  var list = document.getElementById('progress');

  function send(file) {
    var item = document.createElement('li');
    var label = document.createElement('span');
    label.textContent = file.name;
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', 'Upload of ' + file.name);
    var status = document.createElement('span');
    item.appendChild(label);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);

    var data = new FormData();
    ['csrf', 'folder', 'tags', 'preset'].forEach(function (name) {
      data.append(name, form.elements[name].value);
    });
    data.append('file', file, file.name);
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.onload = function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText)[0]; } catch (err) { answer = null; }
        if (xhr.status === 200 && answer && answer.asset_id) {
          bar.value = 100;
          var link = document.createElement('a');
          link.href = form.action.replace(/\/upload$/, '/assets/' + answer.asset_id);
          link.textContent = answer.public_id;
          status.textContent = ' uploaded as ';
          status.appendChild(link);
        } else {
          item.className = 'error';
          status.textContent = ' ' + ((answer && answer.error && answer.error.message) || ('failed (' + xhr.status + ')'));
        }
        resolve();
      };
      xhr.onerror = function () {
        item.className = 'error';
        status.textContent = ' failed: the connection was lost';
        resolve();
      };
      xhr.send(data);
    });
  }

  function sendAll(files) {
    var chain = Promise.resolve();
    Array.prototype.forEach.call(files, function (f) {
      chain = chain.then(function () { return send(f); });
    });
    return chain;
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    sendAll(input.files).then(function () { form.reset(); });
  });
  ['dragenter', 'dragover'].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove('over'); });
  });
  zone.addEventListener('drop', function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) sendAll(e.dataTransfer.files);
  });
})();

// The structured-metadata form with the conditional rules live: on every change the form's
// values go to the evaluate endpoint, and each field is shown or hidden, enabled or not,
// marked mandatory or not, and offered only its allowed values, without a page reload.
(function () {
  'use strict';
  var form = document.getElementById('metadata-form');
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var url = form.getAttribute('data-evaluate');
  var pending = 0;

  function apply(states) {
    Object.keys(states).forEach(function (id) {
      var st = states[id];
      var box = form.querySelector('[data-field="' + CSS.escape(id) + '"]');
      if (!box) return;
      var shown = st.enabled && !st.hidden;
      box.hidden = !shown;
      var controls = box.querySelectorAll('[name]');
      Array.prototype.forEach.call(controls, function (c) {
        c.disabled = !shown || form.hasAttribute('data-readonly');
        if (c.type !== 'hidden' && c.type !== 'checkbox') c.setAttribute('aria-required', st.mandatory ? 'true' : 'false');
      });
      var req = box.querySelector('.req');
      if (req) req.hidden = !st.mandatory;
      var allowed = st.allowed_values;
      Array.prototype.forEach.call(box.querySelectorAll('option[value]'), function (o) {
        if (o.value === '') return;
        var ok = !allowed || allowed.indexOf(o.value) >= 0;
        o.hidden = !ok;
        o.disabled = !ok;
        if (!ok && o.selected) o.selected = false;
      });
      Array.prototype.forEach.call(box.querySelectorAll('label.check'), function (l) {
        var ok = !allowed || allowed.indexOf(l.getAttribute('data-value')) >= 0;
        l.hidden = !ok;
        var input = l.querySelector('input');
        if (input) {
          input.disabled = !shown || !ok || form.hasAttribute('data-readonly');
          if (!ok) input.checked = false;
        }
      });
    });
  }

  function evaluate() {
    var mine = ++pending;
    // Disabled controls are not sent: the rules see them as empty, as the server does.
    var body = new URLSearchParams(new FormData(form));
    fetch(url, { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) { if (v && v.fields && mine === pending) apply(v.fields); })
      .catch(function () {});
  }

  form.addEventListener('change', evaluate);
})();

// Copy buttons next to URLs: shown only where the clipboard can be written.
(function () {
  'use strict';
  if (!navigator.clipboard) return;
  Array.prototype.forEach.call(document.querySelectorAll('button.copy-button'), function (b) {
    var field = document.getElementById(b.getAttribute('data-copy'));
    if (!field) return;
    b.hidden = false;
    b.addEventListener('click', function () {
      navigator.clipboard.writeText(field.value).then(function () {
        b.textContent = 'Copied';
        setTimeout(function () { b.textContent = 'Copy'; }, 1500);
      });
    });
  });
})();
