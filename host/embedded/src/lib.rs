//! Adapters for running vodpipe on one machine.

pub mod ffprobe;
