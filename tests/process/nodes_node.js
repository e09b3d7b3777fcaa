#!/usr/bin/env node
// The official Node SDK sending uploads round-robin to two nodes (run by nodes.py).
// Usage: node nodes_node.js BASE_A BASE_B NOTIFICATION_URL FILE... (CLOUDINARY_URL set, with
// ?upload_prefix=BASE_A). Prints one JSON object: public id -> version, of the acknowledged
// uploads.
'use strict';

const path = require('path');

const [baseA, baseB, hook, ...files] = process.argv.slice(2);
const cloudinary = require('cloudinary').v2;

async function main() {
  const acked = {};
  for (let i = 0; i < files.length; i++) {
    const publicId = `node/${path.basename(files[i], '.jpg')}`;
    const base = i % 2 ? baseB : baseA;
    try {
      const r = await cloudinary.uploader.upload(files[i], { public_id: publicId, upload_prefix: base, notification_url: hook });
      acked[publicId] = r.version;
    } catch (e) {
      console.error(`upload ${publicId} to ${base} failed: ${JSON.stringify(e).slice(0, 200)}`);
    }
  }
  console.log(JSON.stringify(acked));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
