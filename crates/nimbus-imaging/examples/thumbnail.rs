//! Thumbnailing throughput of the engine, for `bench/imaging.sh`: every input file is
//! rendered through a transformation (default `c_scale,w_300/q_80`, JPEG out) `--rounds`
//! times by `--threads` threads pulling from one queue. Files are read into memory first, so
//! only decode, resize and encode are timed. Prints one JSON line.
//!
//!   cargo run --release -p nimbus-imaging --example thumbnail -- [--threads N] [--rounds R]
//!       [--transformation T] [--out DIR] FILE...
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark tool")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use nimbus_core::transform::{Format, Transformation};
use nimbus_imaging::render::{RenderOptions, render};

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut opt = |name: &str, default: &str| -> String {
        match args.iter().position(|a| a == name) {
            Some(i) => {
                let v = args.remove(i + 1);
                args.remove(i);
                v
            }
            None => default.to_owned(),
        }
    };
    let threads: usize = opt("--threads", "1").parse().unwrap();
    let rounds: usize = opt("--rounds", "3").parse().unwrap();
    let spec = opt("--transformation", "c_scale,w_300/q_80");
    let out = opt("--out", "");
    let t = Transformation::parse(&spec.split('/').map(str::to_owned).collect::<Vec<_>>()).expect("transformation");
    let inputs: Vec<Vec<u8>> = args.iter().map(|p| std::fs::read(p).expect("read input")).collect();
    assert!(!inputs.is_empty(), "no input files");
    let opts = RenderOptions { extension: Some(Format::Jpg), ..RenderOptions::default() };
    if !out.is_empty() {
        for (i, input) in inputs.iter().enumerate() {
            let r = render(input, &t, &opts).expect("render");
            std::fs::write(format!("{out}/{i}.jpg"), &r.bytes).unwrap();
        }
    }
    let jobs = inputs.len() * rounds;
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= jobs {
                        break;
                    }
                    let r = render(&inputs[i % inputs.len()], &t, &opts).expect("render");
                    std::hint::black_box(r);
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"images\": {jobs}, \"threads\": {threads}, \"seconds\": {secs:.3}, \"images_per_s\": {:.1}, \"peak_rss_mb\": {:.1}}}",
        jobs as f64 / secs,
        peak_rss_kb() as f64 / 1024.0
    );
}
