//! Adapters for running vodpipe on one machine.

pub mod ffmpeg;
pub mod ffprobe;
pub mod job_reader;
