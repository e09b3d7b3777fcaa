#!/usr/bin/env node
// Scenario: the official Cloudinary Node SDK against a running Nimbus server.
//
// Run by tests/sdk/run.sh with
//   CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD?upload_prefix=http://127.0.0.1:PORT
// in the environment. It must be set before 'cloudinary' is required: the SDK picks its
// http or https client once, at load time, from upload_prefix.
//
// Exercises what the Node SDK puts on the wire differently from the Python one:
// chunked multipart Upload API requests, form-urlencoded Admin API bodies, repeated
// `fields=` query parameters, and `-1` totals in Content-Range for chunked uploads.
//
// Every step runs even when an earlier one failed; the last line is "N passed, N failed".

'use strict';

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

if (!/upload_prefix=http:/.test(process.env.CLOUDINARY_URL || '')) {
  console.error('CLOUDINARY_URL with ?upload_prefix=http://127.0.0.1:PORT must be set');
  process.exit(2);
}

const cloudinary = require('cloudinary').v2;

const cfg = cloudinary.config();
const BASE = cfg.upload_prefix.replace(/\/$/, '');
// Delivery URLs built by the SDK point at the server too.
cloudinary.config({ cname: BASE.replace(/^https?:\/\//, ''), secure: false, analytics: false });
const CLOUD = cfg.cloud_name;
const RUN = crypto.randomBytes(3).toString('hex');
const P = `node${RUN}`;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'nimbus-node-sdk-'));

// ---------------------------------------------------------------------------------------------
// Helpers

// A real PNG (RGB, 8 bit) of the given size, with content that differs per seed.
function makePng(width, height, seed) {
  const crcTable = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < raw.length; i++) {
    if (i % (width * 3 + 1) === 0) { raw[i] = 0; continue; } // filter byte
    x = (x * 1103515245 + 12345) >>> 0;
    raw[i] = x >>> 24;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function writeTmp(name, data) {
  const dir = fs.mkdtempSync(path.join(TMP, 'f'));
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// Node's Admin API rejects with {error: {message, http_code}, ...}, its Upload API with
// {message, http_code}; accept both.
async function expectReject(promise, httpCode, contains) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    const e = (err && err.error) || err || {};
    const msg = String(e.message);
    assert.strictEqual(e.http_code, httpCode, `expected HTTP ${httpCode}, got ${e.http_code}: ${msg}`);
    if (contains) assert.ok(msg.includes(contains), `message ${JSON.stringify(msg)} lacks ${JSON.stringify(contains)}`);
    console.log(`    got expected ${httpCode}: ${msg}`);
    return msg;
  }
  throw new Error(`expected HTTP ${httpCode}, but the call succeeded: ${JSON.stringify(result).slice(0, 300)}`);
}

async function uploadPng(publicId, seed, opts = {}) {
  const data = makePng(24, 16, seed);
  const r = await cloudinary.uploader.upload(writeTmp('img.png', data), { public_id: publicId, ...opts });
  return [r, data];
}

// Width and height of a PNG or a baseline/progressive JPEG.
function imageSize(buf) {
  if (buf.slice(1, 4).toString() === 'PNG') return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
  let i = 2;
  while (i < buf.length) {
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return [buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5)];
    i += 2 + len;
  }
  return null;
}

const state = {};
const steps = [];
const step = (name, fn) => steps.push([name, fn]);

// ---------------------------------------------------------------------------------------------
// Steps

step('upload_file_chunked_transfer', async () => {
  const data = makePng(40, 30, 1);
  const file = writeTmp('node_photo.png', data);
  const r = await cloudinary.uploader.upload(file, {
    public_id: `${P}/file`, tags: ['node', 'png'], context: { caption: 'a=b|c', alt: 'x' },
  });
  assert.strictEqual(r.public_id, `${P}/file`);
  assert.strictEqual(r.format, 'png');
  assert.strictEqual(r.resource_type, 'image');
  assert.deepStrictEqual([r.width, r.height], [40, 30]);
  assert.strictEqual(r.bytes, data.length);
  assert.deepStrictEqual([...r.tags].sort(), ['node', 'png']);
  assert.deepStrictEqual(r.context, { custom: { caption: 'a=b|c', alt: 'x' } });
  assert.strictEqual(r.original_filename, 'node_photo');
  assert.strictEqual(r.url, `${BASE}/${CLOUD}/image/upload/v${r.version}/${P}/file.png`);
  assert.strictEqual(cloudinary.url(r.public_id, { version: r.version, format: 'png', secure: false }), r.url);
  const got = await get(r.url);
  assert.strictEqual(got.status, 200);
  assert.ok(got.body.equals(data), 'downloaded bytes differ');
  state.file = r;
});

step('upload_data_uri', async () => {
  const data = makePng(10, 12, 2);
  const r = await cloudinary.uploader.upload(`data:image/png;base64,${data.toString('base64')}`,
    { public_id: `${P}/datauri` });
  assert.strictEqual(r.public_id, `${P}/datauri`);
  assert.deepStrictEqual([r.width, r.height, r.bytes], [10, 12, data.length]);
  const got = await get(r.url);
  assert.ok(got.status === 200 && got.body.equals(data), 'downloaded bytes differ');
});

step('get_resource', async () => {
  const [up] = await uploadPng(`${P}/get`, 3, { tags: ['g'] });
  const r = await cloudinary.api.resource(up.public_id);
  for (const k of ['public_id', 'asset_id', 'version', 'bytes', 'format', 'width', 'height', 'url']) {
    assert.deepStrictEqual(r[k], up[k], `resource().${k}`);
  }
  assert.deepStrictEqual(r.tags, ['g']);
  const r2 = await cloudinary.api.resource_by_asset_id(up.asset_id);
  assert.strictEqual(r2.public_id, up.public_id);
});

step('list_with_pagination_and_repeated_fields', async () => {
  const prefix = `${P}/page/`;
  const want = [];
  for (let i = 0; i < 5; i++) want.push((await uploadPng(`${prefix}p${i}`, 10 + i, { tags: ['pg'] }))[0].public_id);
  const seen = [];
  const pages = [];
  let cursor;
  for (let n = 0; n < 100; n++) {
    const opts = { type: 'upload', prefix, max_results: 2, fields: ['tags', 'secure_url'] };
    if (cursor) opts.next_cursor = cursor;
    const r = await cloudinary.api.resources(opts);
    pages.push(r.resources.length);
    for (const x of r.resources) {
      assert.ok(x.public_id, 'public_id always present');
      assert.ok(x.secure_url, `secure_url requested with fields= but missing: ${JSON.stringify(x)}`);
      assert.deepStrictEqual(x.tags, ['pg'], `tags requested with fields= but got: ${JSON.stringify(x)}`);
      seen.push(x.public_id);
    }
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  assert.deepStrictEqual([...seen].sort(), [...want].sort(), 'every asset exactly once');
  assert.ok(pages.every((n) => n <= 2), `page sizes ${pages}`);
  const byIds = await cloudinary.api.resources_by_ids([want[0], want[3]]);
  assert.deepStrictEqual(byIds.resources.map((x) => x.public_id).sort(), [want[0], want[3]].sort());
});

step('add_tag', async () => {
  const [a] = await uploadPng(`${P}/tag/a`, 20);
  const [b] = await uploadPng(`${P}/tag/b`, 21);
  const tag = `nt${RUN}`;
  const r = await cloudinary.uploader.add_tag(tag, [a.public_id, b.public_id]);
  assert.deepStrictEqual([...r.public_ids].sort(), [a.public_id, b.public_id].sort());
  const got = await cloudinary.api.resources_by_tag(tag);
  assert.deepStrictEqual(got.resources.map((x) => x.public_id).sort(), [a.public_id, b.public_id].sort());
});

step('update_form_urlencoded', async () => {
  const [a] = await uploadPng(`${P}/upd`, 30, { tags: ['before'] });
  const r = await cloudinary.api.update(a.public_id, {
    tags: ['u1', 'u2'], context: { cx: '1' }, display_name: 'Node name',
  });
  assert.deepStrictEqual([...r.tags].sort(), ['u1', 'u2']);
  assert.deepStrictEqual(r.context, { custom: { cx: '1' } });
  assert.strictEqual(r.display_name, 'Node name');
  const g = await cloudinary.api.resource(a.public_id);
  assert.deepStrictEqual([...g.tags].sort(), ['u1', 'u2']);
});

step('rename', async () => {
  const [a, data] = await uploadPng(`${P}/ren/old`, 40);
  const r = await cloudinary.uploader.rename(a.public_id, `${P}/ren/new`);
  assert.strictEqual(r.public_id, `${P}/ren/new`);
  await expectReject(cloudinary.api.resource(a.public_id), 404);
  const got = await get(r.url);
  assert.ok(got.status === 200 && got.body.equals(data), 'renamed asset download differs');
  await expectReject(cloudinary.uploader.rename(`${P}/ren/missing`, `${P}/ren/x`), 404, 'Resource not found');
});

step('destroy', async () => {
  const [a] = await uploadPng(`${P}/destroy`, 50);
  assert.deepStrictEqual(await cloudinary.uploader.destroy(a.public_id), { result: 'ok' });
  assert.deepStrictEqual(await cloudinary.uploader.destroy(a.public_id), { result: 'not found' });
  assert.strictEqual((await get(a.url)).status, 404);
});

step('webhooks_verified_with_the_sdk', async () => {
  const got = [];
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const hook = `http://127.0.0.1:${server.address().port}/hook`;
    const [a] = await uploadPng(`${P}/hook`, 60, { notification_url: hook });
    await cloudinary.uploader.rename(a.public_id, `${P}/hook2`, { notification_url: hook });
    await cloudinary.uploader.destroy(`${P}/hook2`, { notification_url: hook });
    const deadline = Date.now() + 30000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const kinds = got.map((g) => JSON.parse(g.body).notification_type).sort();
    assert.deepStrictEqual(kinds, ['delete', 'rename', 'upload']);
    for (const g of got) {
      const ts = g.headers['x-cld-timestamp'];
      const sig = g.headers['x-cld-signature'];
      assert.ok(cloudinary.utils.verifyNotificationSignature(g.body, ts, sig), `signature refused: ${g.body.slice(0, 200)}`);
      assert.ok(!cloudinary.utils.verifyNotificationSignature(`${g.body} `, ts, sig), 'a changed body still verifies');
    }
    const upload = got.map((g) => JSON.parse(g.body)).find((b) => b.notification_type === 'upload');
    assert.strictEqual(upload.asset_id, a.asset_id);
  } finally {
    server.close();
  }
});

step('delete_resources_form_body', async () => {
  const ids = [];
  for (let i = 0; i < 2; i++) ids.push((await uploadPng(`${P}/del/d${i}`, 60 + i))[0].public_id);
  const r = await cloudinary.api.delete_resources(ids);
  assert.deepStrictEqual(r.deleted, { [ids[0]]: 'deleted', [ids[1]]: 'deleted' });
  await expectReject(cloudinary.api.resource(ids[0]), 404);
});

step('upload_preset_create_use_delete', async () => {
  const name = `npre${RUN}`;
  const folder = `${P}/presetfolder`;
  const c = await cloudinary.api.create_upload_preset({ name, unsigned: true, folder, tags: 'ptag' });
  assert.strictEqual(c.message, 'created');
  const g = await cloudinary.api.upload_preset(name);
  assert.strictEqual(g.name, name);
  assert.strictEqual(g.unsigned, true);
  assert.strictEqual((g.settings || {}).folder, folder);
  const up = await cloudinary.uploader.unsigned_upload(writeTmp('u.png', makePng(8, 8, 70)), name);
  assert.ok(up.public_id.startsWith(`${folder}/`) || up.asset_folder === folder,
    `unsigned upload not in the preset folder: ${up.public_id}`);
  // A stranger cannot replace what is there, nor choose where it goes.
  const id = up.public_id.slice(folder.length + 1);
  await expectReject(cloudinary.uploader.unsigned_upload(writeTmp('e.png', makePng(8, 8, 71)), name,
    { public_id: id, overwrite: true }), 400, 'Overwrite parameter is not allowed when using unsigned upload');
  await expectReject(cloudinary.uploader.unsigned_upload(writeTmp('e.png', makePng(8, 8, 71)), name,
    { type: 'private' }), 400, 'Type parameter is not allowed');
  const again = await cloudinary.uploader.unsigned_upload(writeTmp('e.png', makePng(8, 8, 72)), name,
    { public_id: id, folder: 'elsewhere' });
  assert.strictEqual(again.public_id, up.public_id);
  assert.strictEqual(again.existing, true);
  assert.strictEqual((await cloudinary.api.resource(up.public_id)).etag, up.etag);
  const d = await cloudinary.api.delete_upload_preset(name);
  assert.strictEqual(d.message, 'deleted');
  await expectReject(cloudinary.api.upload_preset(name), 404);
});

step('access_mode_authenticated_and_update_access_mode', async () => {
  const id = `${P}/am/doc`;
  const [r] = await uploadPng(id, 80, { access_mode: 'authenticated' });
  assert.strictEqual(r.access_mode, 'authenticated');
  const plain = cloudinary.url(id, { format: 'png', version: r.version, secure: false });
  const signed = cloudinary.url(id, { format: 'png', version: r.version, sign_url: true, secure: false });
  assert.strictEqual((await get(plain)).status, 401, `unsigned ${plain}`);
  assert.strictEqual((await get(signed)).status, 200, `signed ${signed}`);
  const thumb = cloudinary.url(id, { format: 'png', width: 4, crop: 'scale', sign_url: true, secure: false });
  assert.strictEqual((await get(thumb)).status, 200, `signed derivative ${thumb}`);
  const u = await cloudinary.api.update_resources_access_mode_by_ids('public', [id]);
  assert.deepStrictEqual(u.updated, [{ public_id: id, access_mode: 'public' }]);
  assert.strictEqual((await get(plain)).status, 200, 'public again');
  const t = await cloudinary.api.update_resources_access_mode_by_prefix('authenticated', `${P}/am/`);
  assert.strictEqual(t.updated.length, 1);
  assert.strictEqual((await get(plain)).status, 401, 'authenticated by prefix');
  assert.strictEqual((await cloudinary.api.resource(id)).access_mode, 'authenticated');
  await expectReject(cloudinary.uploader.upload(writeTmp('x.png', makePng(8, 8, 81)),
    { access_control: [{ access_type: 'anonymous', start: '2030-01-01T00:00:00Z' }] }), 400, 'access_control');
});

// The frontend SDKs (React, Vue, Angular, next-cloudinary) build URLs with @cloudinary/url-gen,
// which writes dpr in a component of its own.
step('url_gen_urls_with_dpr_component', async () => {
  const { Cloudinary } = require('@cloudinary/url-gen');
  const { scale, fill } = require('@cloudinary/url-gen/actions/resize');
  const { dpr, format } = require('@cloudinary/url-gen/actions/delivery');
  const cld = new Cloudinary({
    cloud: { cloudName: CLOUD },
    url: { secure: false, cname: BASE.replace(/^https?:\/\//, ''), analytics: false },
  });
  const id = `${P}/urlgen`;
  await uploadPng(id, 90);
  // makePng(24, 16): scale to 12 wide at dpr 2 is 24 x 16; a 6 x 6 fill at dpr 3 is 18 x 18.
  const cases = [
    [cld.image(id).resize(scale().width(12)).delivery(dpr('2.0')), [24, 16]],
    [cld.image(id).resize(fill().width(6).height(6)).delivery(dpr('3.0')).delivery(format('png')), [18, 18]],
  ];
  for (const [img, [w, h]] of cases) {
    const url = img.toURL();
    assert.ok(/\/dpr_\d\.\d(\/|$)/.test(url), `url-gen wrote dpr differently: ${url}`);
    const got = await get(url);
    assert.strictEqual(got.status, 200, `${url}: ${got.body.toString().slice(0, 200)}`);
    const size = imageSize(got.body);
    assert.deepStrictEqual(size, [w, h], `${url}: got ${size}`);
  }
});

// As the Node SDK's own suite checks them (test/integration/api/admin/api_spec.js).
step('named_transformations_strict_default_and_extension', async () => {
  const plain = `${P}_nt`;
  const empty = `${P}_nt_empty`;
  await cloudinary.api.create_transformation(plain, { crop: 'scale', width: 102 });
  let t = await cloudinary.api.transformation(plain);
  assert.strictEqual(t.allowed_for_strict, true, 'a new named transformation is allowed in strict mode');
  assert.deepStrictEqual(t.info, [{ crop: 'scale', width: 102 }]);
  assert.ok(!t.used, 'not used yet');
  await cloudinary.api.create_transformation(empty, { crop: 'scale', width: 102, format: '' });
  t = await cloudinary.api.transformation(empty);
  assert.deepStrictEqual(t.info, [{ crop: 'scale', width: 102, extension: 'none' }]);
  const named = (await cloudinary.api.transformations({ named: true, max_results: 500 })).transformations;
  assert.ok(named.length > 0 && named.every((x) => x.named === true), 'named=true lists named ones only');
  assert.ok(named.some((x) => x.name === `t_${plain}`), `t_${plain} listed`);
  const unnamed = (await cloudinary.api.transformations({ named: false, max_results: 500 })).transformations;
  assert.ok(unnamed.every((x) => x.named === false), 'named=false lists the others only');
  await cloudinary.api.update_transformation(plain, { allowed_for_strict: false });
  assert.strictEqual((await cloudinary.api.transformation(plain)).allowed_for_strict, false);
  await cloudinary.api.delete_transformation(plain);
  await cloudinary.api.delete_transformation(empty);
  await expectReject(cloudinary.api.transformation(plain), 404);
});

// As the SDKs' suites check publish_by_ids / publish_by_prefix (cloudinary_java's AbstractApiTest).
step('publish_by_ids_prefix_and_tag', async () => {
  const [a] = await uploadPng(`${P}/pub/a`, 110, { type: 'authenticated' });
  const [b] = await uploadPng(`${P}/pub/b`, 111, { type: 'private', tags: [`${P}_pubtag`] });
  assert.strictEqual(a.type, 'authenticated');
  // The wrong type publishes nothing and says so.
  let r = await cloudinary.api.publish_by_ids([a.public_id], { type: 'private' });
  assert.strictEqual(r.published.length, 0);
  assert.strictEqual(r.failed.length, 1);
  assert.strictEqual(r.failed[0].public_id, a.public_id);
  r = await cloudinary.api.publish_by_ids([a.public_id], { type: 'authenticated' });
  assert.strictEqual(r.published.length, 1, JSON.stringify(r));
  assert.strictEqual(r.published[0].public_id, a.public_id);
  assert.strictEqual(r.published[0].type, 'upload');
  const url = r.published[0].url;
  assert.ok(url, 'published resources carry their url');
  const got = await get(url);
  assert.strictEqual(got.status, 200, `${url} is public now`);
  assert.strictEqual((await cloudinary.api.resource(a.public_id)).type, 'upload');
  await expectReject(cloudinary.api.resource(a.public_id, { type: 'authenticated' }), 404);
  // By tag, without a type: the private one.
  r = await cloudinary.api.publish_by_tag(`${P}_pubtag`);
  assert.deepStrictEqual(r.published.map((x) => x.public_id), [b.public_id]);
  // By prefix: a second private asset under a taken public id is refused without overwrite.
  await uploadPng(`${P}/pub/a`, 112, { type: 'private' });
  r = await cloudinary.api.publish_by_prefix(`${P}/pub/`);
  assert.strictEqual(r.published.length, 0, JSON.stringify(r));
  assert.deepStrictEqual(r.failed.map((x) => x.public_id), [a.public_id]);
  r = await cloudinary.api.publish_by_prefix(`${P}/pub/`, { overwrite: true });
  assert.deepStrictEqual(r.published.map((x) => x.public_id), [a.public_id]);
  await expectReject(cloudinary.api.publish_by_ids([a.public_id], { type: 'upload' }), 400, 'type');
});

step('error_404_on_unknown_resource', async () => {
  await expectReject(cloudinary.api.resource(`${P}/never-uploaded`), 404, 'Resource not found');
  await expectReject(cloudinary.uploader.upload(writeTmp('bad.png', Buffer.from('not an image')), {}), 400,
    'Invalid image file');
});

step('upload_large_chunked_minus_one_totals', async () => {
  const data = crypto.randomBytes(30000);
  const file = writeTmp('big.bin', data);
  const r = await new Promise((resolve, reject) => {
    cloudinary.uploader.upload_large(file, { resource_type: 'raw', public_id: `${P}/big.bin`, chunk_size: 12000 },
      (err, res) => (err ? reject(err) : resolve(res)));
  });
  assert.strictEqual(r.public_id, `${P}/big.bin`);
  assert.strictEqual(r.bytes, data.length);
  const got = await get(r.url);
  assert.ok(got.status === 200 && got.body.equals(data), 'chunked upload download differs');
});

step('metadata_fields_rules_and_uploads', async () => {
  const kind = `kind${RUN}`;
  const level = `level${RUN}`;
  await cloudinary.api.add_metadata_field({
    external_id: kind, label: `Kind ${RUN}`, type: 'enum',
    datasource: { values: [{ external_id: 'photo', value: 'Photo' }, { external_id: 'art', value: 'Art' }] },
  });
  await cloudinary.api.add_metadata_field({
    external_id: level, label: `Level ${RUN}`, type: 'set',
    datasource: { values: [{ external_id: 'low', value: 'Low' }, { external_id: 'high', value: 'High' }] },
  });
  // Node sends neither state nor external_id: the rule is active with a generated id.
  const rule = await cloudinary.api.add_metadata_rule({
    metadata_field_id: level, name: `art levels ${RUN}`, state: 'active',
    condition: { metadata_field_id: kind, equals: 'art' },
    result: { activate_values: { external_ids: ['high'] } },
  });
  assert.strictEqual(rule.state, 'active');
  assert.ok(rule.external_id.length > 0);
  const listed = await cloudinary.api.list_metadata_rules();
  assert.ok(listed.metadata_rules.some((r) => r.external_id === rule.external_id));
  // Upload metadata as an object: the SDK encodes it in the pipe form.
  const [ok] = await uploadPng(`${P}/md/ok`, 40, { metadata: { [kind]: 'art', [level]: ['high'] } });
  assert.deepStrictEqual([ok.metadata[kind], ok.metadata[level]], ['art', ['high']]);
  await expectReject(uploadPng(`${P}/md/bad`, 41, { metadata: { [kind]: 'art', [level]: ['low'] } }), 400,
    "Value 'low' is not allowed");
  const upd = await cloudinary.uploader.update_metadata({ [kind]: 'photo', [level]: ['low'] }, [ok.public_id]);
  assert.deepStrictEqual(upd.public_ids, [ok.public_id]);
  const off = await cloudinary.api.update_metadata_rule(rule.external_id, { state: 'inactive' });
  assert.strictEqual(off.state, 'inactive');
  await cloudinary.api.delete_metadata_rule(rule.external_id);
  const after = await cloudinary.api.list_metadata_rules();
  assert.ok(!after.metadata_rules.some((r) => r.external_id === rule.external_id));
  await expectReject(cloudinary.api.delete_metadata_rule(rule.external_id), 404, 'not found');
  await cloudinary.api.delete_metadata_field(level);
  await expectReject(cloudinary.api.metadata_field_by_field_id(level), 404, 'not found');
});

step('search_expression_sort_cursor_aggregate', async () => {
  const tag = `nsrch${RUN}`;
  for (const [i, name] of ['alpha', 'beta', 'gamma'].entries()) {
    await uploadPng(`${P}/search/${name}`, 60 + i, { tags: [tag, i === 1 ? 'odd' : 'even'], context: { alt: `${name} view` } });
  }
  const search = () => cloudinary.search.expression(`tags=${tag}`);
  const all = await search().sort_by('public_id', 'asc').with_field('tags').with_field('context').execute();
  assert.deepStrictEqual(all.resources.map((r) => r.public_id.split('/').pop()), ['alpha', 'beta', 'gamma']);
  assert.strictEqual(all.total_count, 3);
  assert.ok(all.resources[0].tags.includes(tag), JSON.stringify(all.resources[0]));
  assert.strictEqual(all.resources[0].context.alt, 'alpha view');
  // Pages of one: the cursor carries the sort.
  const seen = [];
  let cursor;
  do {
    let q = search().sort_by('public_id', 'desc').max_results(1);
    if (cursor) q = q.next_cursor(cursor);
    const r = await q.execute();
    seen.push(...r.resources.map((x) => x.public_id.split('/').pop()));
    cursor = r.next_cursor;
  } while (cursor);
  assert.deepStrictEqual(seen, ['gamma', 'beta', 'alpha']);
  const odd = await cloudinary.search.expression(`tags=${tag} AND -tags:even AND context.alt:view`).execute();
  assert.deepStrictEqual(odd.resources.map((r) => r.public_id.split('/').pop()), ['beta']);
  const agg = await search().aggregate('format').aggregate('tags').max_results(1).execute();
  assert.deepStrictEqual(agg.aggregations.format, { png: 3 });
  assert.strictEqual(agg.aggregations.tags.even, 2);
  await expectReject(cloudinary.search.expression('tags:(x').execute(), 400, "missing ')'");
  // A signed search URL (standard base64 in the path), fetched with a plain GET.
  const url = search().sort_by('public_id', 'asc').max_results(2).to_url(90, undefined, { secure: false });
  const res = await get(url);
  assert.strictEqual(res.status, 200, `${url}: ${res.body}`);
  const page = JSON.parse(res.body.toString());
  assert.deepStrictEqual(page.resources.map((r) => r.public_id.split('/').pop()), ['alpha', 'beta']);
  assert.ok(/max-age=90/.test(res.headers['cache-control']), res.headers['cache-control']);
  const next = search().sort_by('public_id', 'asc').max_results(2).to_url(90, page.next_cursor, { secure: false });
  const rest = JSON.parse((await get(next)).body.toString());
  assert.deepStrictEqual(rest.resources.map((r) => r.public_id.split('/').pop()), ['gamma']);
  // Folders: the SDK sends `folders%2Fsearch` as one segment.
  const folders = await cloudinary.search_folders.expression(`name=search AND path:${P}/*`).execute();
  assert.ok(folders.folders.some((f) => f.path === `${P}/search`), JSON.stringify(folders));
  assert.ok(folders.folders.every((f) => f.name === 'search'), JSON.stringify(folders));
});

// ---------------------------------------------------------------------------------------------

function describe(err) {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  try { return JSON.stringify(err && err.error ? err.error : err).slice(0, 500); } catch (e) { return String(err); }
}

async function main() {
  const only = process.argv.slice(2);
  console.log(`Node SDK ${require('cloudinary/package.json').version} against ${BASE} (cloud ${CLOUD}, run id ${RUN})`);
  const results = [];
  for (const [name, fn] of steps) {
    if (only.length && !only.includes(name)) continue;
    console.log(`--- ${name}`);
    const t0 = Date.now();
    let ok = true;
    let msg = '';
    try {
      await fn();
    } catch (err) {
      ok = false;
      msg = describe(err);
      console.log(`    ${msg}`);
    }
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    results.push([name, ok, msg]);
  }
  const failed = results.filter((r) => !r[1]);
  console.log('\nNode SDK scenario summary:');
  for (const [name, ok, msg] of results) console.log(`  ${ok ? 'PASS' : 'FAIL'} ${name}${ok ? '' : ` - ${msg.slice(0, 300)}`}`);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  fs.rmSync(TMP, { recursive: true, force: true });
  process.exit(failed.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
