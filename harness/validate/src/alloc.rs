//! libxml2's allocations on mimalloc (feature `mimalloc`).
//!
//! libxml2 allocates through its own hooks (`xmlMalloc`, `xmlFree`, …), which default
//! to the C library's `malloc`. A binary whose Rust allocations already go to mimalloc
//! can point libxml2's there too: a validation worker's parser, dictionary and schema
//! state then use per-thread heaps and no longer take glibc's arena lock on every call
//! (glibc skips it only while a process has one thread), at about half the
//! instructions per allocation (docs/performance.md). Only libxml2 is routed, through
//! its own documented hook; every other C library keeps the system `malloc`.
#![allow(unsafe_code)]

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc};
use std::ffi::{c_char, CStr};

/// Points libxml2's allocation hooks at mimalloc.
///
/// # Safety
/// No libxml2 function may have run in the process before this call (libxml2 would
/// later hand `mi_free` memory that `malloc` gave): call it first thing in `main`.
pub unsafe fn libxml2_on_mimalloc() {
    // SAFETY: xmlMemSetup only stores the four function pointers; by the contract
    // libxml2 has allocated nothing yet. This libxml2 is built without per-thread hooks
    // (LIBXML_THREAD_ALLOC_ENABLED), so the process-wide hooks are what every thread
    // uses.
    let status = unsafe {
        libxml::bindings::xmlMemSetup(
            Some(mi_free),
            Some(mi_malloc),
            Some(mi_realloc),
            Some(strdup),
        )
    };
    debug_assert_eq!(status, 0, "xmlMemSetup refused the hooks");
}

/// `strdup` on mimalloc's heap.
unsafe extern "C" fn strdup(s: *const c_char) -> *mut c_char {
    if s.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated string; the copy is its length plus the
    // NUL, into a block of exactly that size.
    unsafe {
        let len = CStr::from_ptr(s).to_bytes_with_nul().len();
        let p = mi_malloc(len).cast::<c_char>();
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(s, p, len);
        }
        p
    }
}
