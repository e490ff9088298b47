//! Adapters for running vodpipe on one machine: files on disk, SQLite, a durable local queue,
//! ffprobe and ffmpeg.

pub mod analysis;
pub mod child;
pub mod disk;
pub mod ffmpeg;
pub mod ffprobe;
pub mod job_lock;
pub mod message;
pub mod schema;
pub mod sqlite;
pub mod work;
pub mod worker;
