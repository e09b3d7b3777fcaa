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
