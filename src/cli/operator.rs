//! Who is acting: the operator name history records, from `--user` / `$SYNCDESK_USER`, the login environment
//! (`$USER`, `$USERNAME`, `$LOGNAME`) or the OS account the process runs as. Never a made-up "unknown":
//! when none of them names anyone the console asks at start, and a headless command refuses to act.

/// The first non-blank of: the flag (clap fills it from `$SYNCDESK_USER`), the login environment, the OS
/// account's name, or its numeric id (`uid 1000`, an account without a name is still someone).
pub fn resolve(flag: Option<String>) -> Option<String> {
    let named = |v: Option<String>| v.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    named(flag)
        .or_else(|| {
            ["USER", "USERNAME", "LOGNAME"]
                .iter()
                .find_map(|v| named(std::env::var(v).ok()))
        })
        .or_else(|| named(os_account()))
}

/// The name of the account this process runs as (the password database, NSS included), else its id.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn os_account() -> Option<String> {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into `pwd` and `buf`, whose sizes it is given, and
    // the name it points `pwd.pw_name` at lives in `buf`, read before `buf` goes.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found);
        if rc == 0 && !found.is_null() && !pwd.pw_name.is_null() {
            let name = std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned();
            if !name.trim().is_empty() {
                return Some(name);
            }
        }
        Some(format!("uid {uid}"))
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn os_account() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_and_blank_names_do_not_count() {
        assert_eq!(resolve(Some(" dora ".into())).as_deref(), Some("dora"));
        // A blank flag falls through to the environment or the account, never to nothing on Linux.
        let fallback = resolve(Some("  ".into()));
        assert_ne!(fallback.as_deref(), Some(""));
        assert_ne!(fallback.as_deref(), Some("unknown"));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_os_account_has_a_name_or_an_id() {
        let name = os_account().expect("an account");
        assert!(!name.trim().is_empty());
    }
}
