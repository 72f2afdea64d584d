//! Capture of FFmpeg's error messages per decoding thread.
//!
//! FFmpeg reports some damage only in its log: the MP4 demuxer meets a
//! truncated file ("stream 0, offset 0x11d74: partial file") and then returns
//! a plain end of file, so the return codes alone make a half file look like
//! a short, intact one. We keep FFmpeg silent (its stderr noise would land in
//! the host program) but collect error-level messages emitted on the thread
//! that is reading a video, while that reader asks for them; the reader turns
//! them into [`super::Damage`].
//!
//! The callback is process-wide (FFmpeg has one), attribution is by thread:
//! a [`VideoReader`](super::VideoReader) demuxes and sends packets on the
//! thread that calls it, so messages raised inside those calls belong to
//! its file. Messages from FFmpeg's own worker threads (frame-threaded
//! decoding) are not attributed; the decoder's return codes cover those.
//!
//! Trade-off for host programs: FFmpeg has a single log callback, and the
//! first use of frame-select's video I/O replaces whatever callback was
//! installed before (as the earlier `Quiet` level did, nothing of FFmpeg's
//! log reaches stderr afterwards). A host that wants FFmpeg's log must set
//! its own callback after that first use, and then frame-select sees no
//! messages: damage is still found from frame counts and return codes.
//!
//! The callback never unwinds into C: it touches only thread-local state
//! through `try_with` / `try_borrow` (a message raised while a thread's
//! locals are being destroyed is dropped, not a panic), and it formats into
//! a fixed buffer that FFmpeg cuts and NUL-terminates.

use std::cell::RefCell;

/// Messages kept per capture; further ones are only counted.
pub(crate) const MAX_KEPT: usize = 8;

/// Error-level messages captured on one thread.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    /// The first [`MAX_KEPT`] messages.
    pub messages: Vec<String>,
    /// All messages, kept or not.
    pub count: u64,
}

thread_local! {
    /// `Some` while a reader on this thread is collecting.
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Runs `f` with FFmpeg's error messages on this thread collected into
/// `into` (appended; the count saturates).
pub(crate) fn capture<R>(into: &mut Captured, f: impl FnOnce() -> R) -> R {
    // `try_with`: during thread-local destruction nothing is collected.
    let outer = CAPTURE.try_with(|c| c.borrow_mut().replace(Captured::default()));
    let out = f();
    let got = match outer {
        Ok(outer) => CAPTURE
            .try_with(|c| std::mem::replace(&mut *c.borrow_mut(), outer))
            .ok()
            .flatten(),
        Err(_) => None,
    };
    if let Some(got) = got {
        into.count = into.count.saturating_add(got.count);
        let room = MAX_KEPT.saturating_sub(into.messages.len());
        into.messages.extend(got.messages.into_iter().take(room));
    }
    out
}

fn record(line: String) {
    // `try_with` and `try_borrow_mut`: never panic inside an FFmpeg
    // callback (an unwind into C aborts the process).
    let _ = CAPTURE.try_with(|c| {
        if let Ok(mut slot) = c.try_borrow_mut()
            && let Some(cap) = slot.as_mut()
        {
            cap.count = cap.count.saturating_add(1);
            if cap.messages.len() < MAX_KEPT {
                cap.messages.push(line);
            }
        }
    });
}

/// Installs the capturing callback and lets error-level messages through to
/// it (nothing is printed). Called once from [`super::init_ffmpeg`].
pub(crate) fn install() {
    #[cfg(target_arch = "x86_64")]
    {
        use video_rs::ffmpeg::ffi;
        // SAFETY: setting FFmpeg's global log level and callback; the
        // callback below is thread-safe (thread-local state only).
        unsafe {
            ffi::av_log_set_level(ffi::AV_LOG_ERROR);
            ffi::av_log_set_callback(Some(callback));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // The va_list type of the callback differs per architecture; without
        // the capture, damage is still detected from frame counts and return
        // codes.
        video_rs::ffmpeg::util::log::set_level(video_rs::ffmpeg::util::log::Level::Quiet);
    }
}

#[cfg(target_arch = "x86_64")]
unsafe extern "C" fn callback(
    avcl: *mut std::ffi::c_void,
    level: std::ffi::c_int,
    fmt: *const std::ffi::c_char,
    vl: *mut video_rs::ffmpeg::ffi::__va_list_tag,
) {
    use video_rs::ffmpeg::ffi;
    // The low byte is the level; callers may set a colour tint
    // (`AV_LOG_C(x)`, bits 8-15) above it, as FFmpeg's own callback masks.
    let level = if level >= 0 { level & 0xff } else { level };
    if level > ffi::AV_LOG_ERROR || fmt.is_null() {
        return;
    }
    let active = CAPTURE
        .try_with(|c| c.try_borrow().map(|s| s.is_some()).unwrap_or(false))
        .unwrap_or(false);
    if !active {
        return;
    }
    let mut buf = [0 as std::ffi::c_char; 256];
    let mut prefix: std::ffi::c_int = 0;
    // SAFETY: FFmpeg passes a valid format string and its va_list; the
    // buffer size is given, and av_log_format_line2 always NUL-terminates.
    let line = unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            vl,
            buf.as_mut_ptr(),
            buf.len() as std::ffi::c_int,
            &mut prefix,
        );
        std::ffi::CStr::from_ptr(buf.as_ptr())
    };
    let line = line.to_string_lossy().trim().to_string();
    if !line.is_empty() {
        record(line);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use video_rs::ffmpeg::ffi;

    /// Logs an error-level message through FFmpeg (and so our callback).
    fn ffmpeg_error(level: std::ffi::c_int, text: &std::ffi::CStr) {
        // SAFETY: a plain format string without conversions.
        unsafe { ffi::av_log(std::ptr::null_mut(), level, text.as_ptr()) };
    }

    #[test]
    fn messages_are_captured_on_their_thread_including_tinted_levels() {
        crate::video::init_ffmpeg();
        let mut got = Captured::default();
        capture(&mut got, || {
            ffmpeg_error(ffi::AV_LOG_ERROR, c"plain error\n");
            // AV_LOG_C(3) | AV_LOG_ERROR: an error with a colour tint.
            ffmpeg_error((3 << 8) | ffi::AV_LOG_ERROR, c"tinted error\n");
            ffmpeg_error(ffi::AV_LOG_WARNING, c"only a warning\n");
        });
        assert_eq!(got.messages, ["plain error", "tinted error"]);
        assert_eq!(got.count, 2);
        // Outside a capture nothing is kept.
        ffmpeg_error(ffi::AV_LOG_ERROR, c"uncaptured\n");
        assert_eq!(got.count, 2);
    }

    /// A message raised by a thread-local destructor that runs after the
    /// capture slot was destroyed: `CAPTURE.with` would panic inside the
    /// `extern "C"` callback, which aborts the whole process.
    #[test]
    fn a_message_during_thread_exit_does_not_abort() {
        crate::video::init_ffmpeg();
        struct LogOnDrop;
        impl Drop for LogOnDrop {
            fn drop(&mut self) {
                ffmpeg_error(ffi::AV_LOG_ERROR, c"late message\n");
            }
        }
        thread_local! {
            static GUARD: LogOnDrop = const { LogOnDrop };
        }
        std::thread::spawn(|| {
            // Destructors run in reverse order of first use: GUARD's after
            // CAPTURE's.
            GUARD.with(|_| {});
            capture(&mut Captured::default(), || {});
        })
        .join()
        .unwrap();
    }
}
