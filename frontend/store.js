// pyxa portal — shared state: the list of collections, used by both views.

import { api } from './api.js';

const listeners = new Set();
let collections = [];
let loading = null;

export function getCollections() { return collections; }

export function onCollections(fn) { listeners.add(fn); return () => listeners.delete(fn); }

function emit() { for (const fn of listeners) fn(collections); }

/** Reload GET /v1/collections (concurrent calls share one request). */
export function refreshCollections() {
  if (loading) return loading;
  loading = api.listCollections()
    .then((data) => {
      const list = (data && data.collections) || [];
      list.sort((a, b) => (a.name === 'default' ? -1 : b.name === 'default' ? 1 : a.name.localeCompare(b.name)));
      collections = list;
      emit();
      return collections;
    })
    .finally(() => { loading = null; });
  return loading;
}

/** Adjust a collection's item count locally (after an upload or delete). */
export function bumpCount(name, delta) {
  const c = collections.find((x) => x.name === name);
  if (c) {
    c.item_count = Math.max(0, (Number(c.item_count) || 0) + delta);
    emit();
  }
}

const COLLECTION_KEY = 'pyxa.collection';
export function preferredCollection() {
  try { return localStorage.getItem(COLLECTION_KEY) || 'default'; } catch { return 'default'; }
}
export function setPreferredCollection(name) {
  try { localStorage.setItem(COLLECTION_KEY, name); } catch { /* ignore */ }
}
