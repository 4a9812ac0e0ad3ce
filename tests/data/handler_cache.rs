use std::collections::HashMap;
use std::fs;
use std::sync::{Arc, Mutex};

use crate::config::Settings;

/// An in-memory cache with a file backing.
#[derive(Debug, Default)]
pub struct Cache {
    entries: Arc<Mutex<HashMap<String, String>>>,
}

impl Cache {
    /// Create an empty cache.
    pub fn new() -> Self {
        Cache { entries: Arc::new(Mutex::new(HashMap::new())) }
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let entries = self.entries.lock().unwrap();
        match entries.get(key) {
            Some(value) if !value.is_empty() => Some(value.clone()),
            _ => None,
        }
    }

    #[allow(dead_code)]
    fn clear_dir(&self, settings: &Settings) -> std::io::Result<()> {
        fs::remove_dir_all(&settings.cache_dir)?;
        self.entries.lock().unwrap().clear();
        Ok(())
    }
}

fn shard(key: &str) -> usize {
    key.len() % 16
}
