//! Feeding a command's stdin: the bytes given, then a local file in pieces. An upload's file
//! goes through a buffer of [`PIECE`] bytes, so its size never shows in hoist's memory; the
//! pipe (to a local command, or to the ssh master that carries the channel) paces the reads.

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How much of the file is read at a time.
const PIECE: usize = 256 * 1024;

/// Write `head`, then the content of `file`, then close the pipe. A command that exits
/// without reading all of it, or a file that cannot be read to its end, only ends the feed
/// early: the command sees a short input (the write script then refuses it, see `files.rs`).
pub async fn feed<W: AsyncWrite + Unpin>(pipe: &mut W, head: &[u8], file: Option<&Path>) {
    let _ = feed_all(pipe, head, file).await;
    let _ = pipe.shutdown().await;
}

async fn feed_all<W: AsyncWrite + Unpin>(
    pipe: &mut W,
    head: &[u8],
    file: Option<&Path>,
) -> std::io::Result<()> {
    pipe.write_all(head).await?;
    let Some(path) = file else {
        return Ok(());
    };
    let mut f = tokio::fs::File::open(path).await?;
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        pipe.write_all(&buf[..n]).await?;
    }
}
