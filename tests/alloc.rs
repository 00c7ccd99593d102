//! No allocation per packet: a steady bulk transfer run four times longer carries about four
//! times the packets but makes about the same number of heap allocations (set-up, the first
//! growth of queues and tables, the results). Counted with a wrapping global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn run(duration: &str, extra: &[&str]) -> (u64, u64) {
    let text = nitrosim::scenario::BUNDLED.iter().find(|(n, _)| *n == "single-flow-cap.ron").unwrap().1;
    let mut sets = vec!["variants=[]".to_string(), "workloads.bulk.flows=8".into(), format!("duration={duration}")];
    sets.extend(extra.iter().map(|s| s.to_string()));
    let v = nitrosim::scenario::load("x", text, &sets, None).unwrap().remove(0);
    let model = nitrosim::scenario::build::build(&v.name, &v.spec).unwrap();
    let before = ALLOCS.load(Ordering::Relaxed);
    let r = model.run(&mut |_| {}).unwrap();
    (ALLOCS.load(Ordering::Relaxed) - before, r.packets.sent)
}

// One test, so no other test thread allocates while the counter runs.
#[test]
fn allocations_do_not_grow_with_packets() {
    check(&[]);
    // ENA Express: the SRD legs, ACKs and reorder buffer allocate nothing per packet either.
    let eni = r#"[{"name": "eth0", "mtu": 8900, "ena_srd_enabled": true}]"#;
    check(&[&format!("instances.sender.enis={eni}"), &format!("instances.receiver.enis={eni}")]);
}

fn check(extra: &[&str]) {
    let (a_short, p_short) = run("20ms", extra);
    let (a_long, p_long) = run("80ms", extra);
    eprintln!("allocations {a_short} -> {a_long} for packets {p_short} -> {p_long}");
    assert!(p_long > 3 * p_short, "packets {p_short} -> {p_long}");
    // Everything beyond warm-up must be allocation-free: allow a little slack for tables that
    // reach a new high-water mark late.
    assert!(a_long < a_short + a_short / 4 + 64, "allocations {a_short} -> {a_long} for packets {p_short} -> {p_long}");
    assert!(a_long < p_long / 100, "{a_long} allocations for {p_long} packets");
}
