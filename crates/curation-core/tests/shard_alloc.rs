//! A shard whose tar header claims a huge member must not make the reader
//! reserve that much memory: reservations are bounded by the file's size.
//! (Its own test binary: the counting allocator sees only this test.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use curation_core::ShardError;
use curation_core::shard::{read_keys, read_samples};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A ustar header for `name` claiming `size` bytes, with a valid checksum.
fn header(name: &str, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    // 100 GB does not fit 11 octal digits: GNU base-256 size field.
    h[124] = 0x80;
    h[128..136].copy_from_slice(&size.to_be_bytes());
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

#[test]
fn a_header_claiming_100_gb_is_a_typed_error_without_the_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("shard-000000.tar");
    let mut bytes = header("a.mp4", 100 << 30).to_vec();
    bytes.extend_from_slice(&[7u8; 1024]);
    std::fs::write(&shard, &bytes).unwrap();

    LARGEST.store(0, Ordering::Relaxed);
    let e = read_samples(&shard).unwrap_err();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(matches!(e, ShardError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("truncated"), "{e}");
    // The file is 1.5 KiB; buffers of a few hundred KiB at most.
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
    let e = read_keys(&shard).unwrap_err();
    assert!(
        matches!(e, ShardError::Io { .. }) && e.to_string().contains("unexpected EOF"),
        "{e}"
    );
}
