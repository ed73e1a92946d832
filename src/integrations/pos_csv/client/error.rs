//! What can go wrong with the POS's files. Every message names the file, because an operator fixes these by
//! looking at the file (or the POS's export settings), not at syncdesk.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PosCsvError {
    #[error(
        "POS export {path}: the file does not exist (check pos_csv.files.export_path and the POS's export)"
    )]
    Missing { path: PathBuf },
    #[error("POS export {path}: the file is empty (no header line)")]
    Empty { path: PathBuf },
    #[error("POS export {path}, line {line}: the header has no '{column}' column (found: {found})")]
    MissingColumn {
        path: PathBuf,
        line: usize,
        column: String,
        found: String,
    },
    #[error("POS export {path}: the file changed while it was read; the next pass reads it again")]
    ChangedWhileReading { path: PathBuf },
    #[error("POS import folder {path} does not exist (check pos_csv.files.reductions_dir)")]
    NoFolder { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PosCsvError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        PosCsvError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
