//! `h.edit_file(path, |old| new)`: read a text file, edit it, write it back only when the text
//! changed. The read goes through the dry run's view of files written earlier in the same run,
//! so two edits of one file in a dry run plan the file the real run would leave, not two edits
//! of what is on the host now. Lines, blocks, env keys and authorized keys are edits of this
//! kind.

use super::{FileOpts, Host};
use crate::error::{Error, Result};

/// A text file as an edit starts from it: its content (empty when missing) and whether it
/// was there (a new file takes the edit's mode; an existing one keeps its own).
#[derive(Debug, Clone)]
pub struct FileEdit {
    pub path: String,
    pub old: String,
    pub existed: bool,
}

impl Host {
    /// Read `path` for an edit (see [`FileEdit`]); through the dry run's planned files.
    pub async fn begin_edit(&self, path: &str, sudo: bool) -> Result<FileEdit> {
        let bytes = self.read_bytes_if_present(path, sudo).await?;
        let existed = bytes.is_some();
        let old = String::from_utf8(bytes.unwrap_or_default())
            .map_err(|_| Error::failed(format!("{path} is not UTF-8 text")).host(self.name()))?;
        Ok(FileEdit {
            path: path.to_string(),
            old,
            existed,
        })
    }

    /// Write `new` where `edit` was read, unless it is the same text; whether it changed.
    pub async fn finish_edit(&self, edit: &FileEdit, new: &str, opts: &FileOpts) -> Result<bool> {
        if edit.existed && new == edit.old {
            return Ok(false);
        }
        self.write(&edit.path, new, opts).await?;
        Ok(true)
    }

    /// Edit a text file: `edit` gets its text (empty when missing) and returns the new text;
    /// written only when it differs. Whether it changed.
    pub async fn edit_file(
        &self,
        path: &str,
        opts: &FileOpts,
        edit: impl FnOnce(&str) -> Result<String>,
    ) -> Result<bool> {
        let e = self.begin_edit(path, opts.sudo).await?;
        let new = edit(&e.old).map_err(|err| err.host(self.name()))?;
        self.finish_edit(&e, &new, opts).await
    }
}
