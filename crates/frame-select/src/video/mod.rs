//! Video I/O over FFmpeg (video-rs): probe, sequential decode, seek, sampling.
