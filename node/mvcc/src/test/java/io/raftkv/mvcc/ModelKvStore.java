package io.raftkv.mvcc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The reference model: the whole history in a TreeMap (key to its versions, oldest first), no
 * physical compaction, no persistence, no concurrency. Written for obviousness, not speed.
 */
final class ModelKvStore {

  /** One version; {@code kv == null} marks a delete at {@code revision}. */
  private record Version(long revision, KeyValue kv) {}

  private final TreeMap<Bytes, List<Version>> history = new TreeMap<>();
  private final TreeMap<Long, List<Event>> log = new TreeMap<>();
  private final TreeMap<Long, Lease> leases = new TreeMap<>();
  private final boolean brokenMore;
  private long revision = 1;
  private long compacted;
  private final long quotaBytes;

  /** The reference model with a quota of {@code quotaBytes} (see {@link #historyBytes()}). */
  ModelKvStore(long quotaBytes) {
    this(quotaBytes, false);
  }

  private ModelKvStore(long quotaBytes, boolean brokenMore) {
    this.quotaBytes = quotaBytes;
    this.brokenMore = brokenMore;
  }

  /** A deliberately wrong model (never reports {@code more}), to show the checker can fail. */
  static ModelKvStore brokenMoreFlag() {
    return new ModelKvStore(Long.MAX_VALUE, true);
  }

  // state during one write
  private List<Event> pendingEvents = new ArrayList<>();

  long currentRevision() {
    return revision;
  }

  long compactRevision() {
    return compacted;
  }

  List<Lease> leases() {
    return List.copyOf(leases.values());
  }

  /**
   * The quota figure by its definition: every version a read at or above the compacted revision
   * can reach (all versions above it, all at it, and the newest below it if live), each counted
   * as key + value + 32 bytes.
   */
  long historyBytes() {
    long total = 0;
    for (Map.Entry<Bytes, List<Version>> e : history.entrySet()) {
      List<Version> vs = e.getValue();
      int newestAtOrBelow = -1;
      for (int i = 0; i < vs.size(); i++) {
        if (vs.get(i).revision() <= compacted) {
          newestAtOrBelow = i;
        }
      }
      for (int i = 0; i < vs.size(); i++) {
        Version v = vs.get(i);
        boolean readable = v.revision() >= compacted
            || (i == newestAtOrBelow && v.kv() != null);
        if (readable) {
          total += e.getKey().size() + (v.kv() == null ? 0 : v.kv().value().size()) + 32;
        }
      }
    }
    return total;
  }

  private boolean noSpace() {
    return historyBytes() > quotaBytes;
  }

  private static boolean inRange(Bytes key, Bytes end, Bytes k) {
    if (end.isEmpty()) {
      return k.equals(key);
    }
    if (end.equals(Bytes.NUL)) {
      return k.compareTo(key) >= 0;
    }
    return k.compareTo(key) >= 0 && k.compareTo(end) < 0;
  }

  private KeyValue get(Bytes key, long at) {
    KeyValue found = null;
    for (Version v : history.getOrDefault(key, List.of())) {
      if (v.revision() <= at) {
        found = v.kv();
      }
    }
    return found;
  }

  private List<KeyValue> live(Bytes key, Bytes end, long at) {
    List<KeyValue> out = new ArrayList<>();
    for (Bytes k : history.keySet()) {
      if (inRange(key, end, k)) {
        KeyValue kv = get(k, at);
        if (kv != null) {
          out.add(kv);
        }
      }
    }
    return out;
  }

  RangeResponse range(RangeRequest r) {
    if (r.key().isEmpty()) {
      throw new MvccException(MvccException.Code.EMPTY_KEY);
    }
    if (r.revision() > revision) {
      throw new MvccException(MvccException.Code.FUTURE_REV);
    }
    long at = r.revision() <= 0 ? revision : r.revision();
    if (at < compacted) {
      throw new MvccException(MvccException.Code.COMPACTED);
    }
    return rangeAt(r, at, revision);
  }

  private RangeResponse rangeAt(RangeRequest r, long at, long header) {
    List<KeyValue> all = live(r.key(), r.rangeEnd(), at);
    if (r.countOnly()) {
      return new RangeResponse(header, List.of(), false, all.size());
    }
    boolean sortedOrFiltered = r.sortOrder() != RangeRequest.SortOrder.NONE
        || r.minModRevision() != 0 || r.maxModRevision() != 0
        || r.minCreateRevision() != 0 || r.maxCreateRevision() != 0;
    List<KeyValue> kvs = new ArrayList<>(all);
    if (!sortedOrFiltered && r.limit() > 0 && kvs.size() > r.limit() + 1) {
      kvs = new ArrayList<>(kvs.subList(0, (int) r.limit() + 1));
    }
    List<KeyValue> kept = new ArrayList<>();
    for (KeyValue kv : kvs) {
      if (r.maxModRevision() != 0 && kv.modRevision() > r.maxModRevision()) {
        continue;
      }
      if (r.minModRevision() != 0 && kv.modRevision() < r.minModRevision()) {
        continue;
      }
      if (r.maxCreateRevision() != 0 && kv.createRevision() > r.maxCreateRevision()) {
        continue;
      }
      if (r.minCreateRevision() != 0 && kv.createRevision() < r.minCreateRevision()) {
        continue;
      }
      kept.add(kv);
    }
    RangeRequest.SortOrder order = r.sortOrder();
    if (order == RangeRequest.SortOrder.NONE && r.sortTarget() != RangeRequest.SortTarget.KEY) {
      order = RangeRequest.SortOrder.ASCEND;
    }
    if (order != RangeRequest.SortOrder.NONE) {
      Comparator<KeyValue> c = switch (r.sortTarget()) {
        case KEY -> Comparator.comparing(KeyValue::key);
        case VERSION -> Comparator.comparingLong(KeyValue::version);
        case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
        case MOD -> Comparator.comparingLong(KeyValue::modRevision);
        case VALUE -> Comparator.comparing(KeyValue::value);
      };
      kept.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
    }
    boolean more = false;
    if (r.limit() > 0 && kept.size() > r.limit()) {
      kept = kept.subList(0, (int) r.limit());
      more = !brokenMore;
    }
    List<KeyValue> out = new ArrayList<>();
    for (KeyValue kv : kept) {
      out.add(r.keysOnly() ? kv.withoutValue() : kv);
    }
    return new RangeResponse(header, out, more, all.size());
  }

  // ---------------------------------------------------------------- writes

  private boolean changed() {
    return !pendingEvents.isEmpty();
  }

  private void begin() {
    pendingEvents = new ArrayList<>();
  }

  private long commit() {
    if (changed()) {
      revision++;
      log.put(revision, pendingEvents);
    }
    return revision;
  }

  private void write(Bytes key, KeyValue kv) {
    KeyValue prev = get(key, revision + 1);
    history.computeIfAbsent(key, k -> new ArrayList<>()).add(new Version(revision + 1, kv));
    if (kv != null) {
      pendingEvents.add(new Event(Event.Type.PUT, kv, Optional.ofNullable(prev)));
    } else {
      pendingEvents.add(new Event(Event.Type.DELETE,
          new KeyValue(key, 0, revision + 1, 0, Bytes.EMPTY, 0), Optional.of(prev)));
    }
  }

  PutResponse put(PutRequest p) {
    Requests.checkPut(p);
    if (noSpace()) {
      throw new MvccException(MvccException.Code.NO_SPACE);
    }
    checkPut(p);
    begin();
    PutResponse r = doPut(p);
    return new PutResponse(commit(), r.prevKv());
  }

  private void checkPut(PutRequest p) {
    if ((p.ignoreValue() || p.ignoreLease()) && get(p.key(), revision) == null) {
      throw new MvccException(MvccException.Code.KEY_NOT_FOUND);
    }
    if (!p.ignoreLease() && p.lease() != 0 && !leases.containsKey(p.lease())) {
      throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
    }
  }

  private PutResponse doPut(PutRequest p) {
    KeyValue prev = get(p.key(), revision + 1);
    long rev = revision + 1;
    KeyValue kv = new KeyValue(p.key(),
        prev == null ? rev : prev.createRevision(),
        rev,
        prev == null ? 1 : prev.version() + 1,
        p.ignoreValue() ? prev.value() : p.value(),
        p.ignoreLease() ? prev.lease() : p.lease());
    write(p.key(), kv);
    return new PutResponse(rev, p.prevKv() ? Optional.ofNullable(prev) : Optional.empty());
  }

  DeleteRangeResponse deleteRange(DeleteRangeRequest d) {
    Requests.checkDelete(d);
    begin();
    DeleteRangeResponse r = doDelete(d);
    return new DeleteRangeResponse(commit(), r.deleted(), r.prevKvs());
  }

  private DeleteRangeResponse doDelete(DeleteRangeRequest d) {
    List<KeyValue> victims = live(d.key(), d.rangeEnd(), revision + 1);
    for (KeyValue kv : victims) {
      write(kv.key(), null);
    }
    return new DeleteRangeResponse(0, victims.size(), d.prevKv() ? victims : List.of());
  }

  TxnResponse txn(TxnRequest t) {
    Requests.checkTxn(t);
    if (noSpace() && Requests.hasPut(t)) {
      throw new MvccException(MvccException.Code.NO_SPACE);
    }
    Map<TxnRequest, Boolean> path = new IdentityHashMap<>();
    decide(t, path);
    checkPuts(t, path);
    checkRanges(t, path);
    begin();
    TxnResponse r = doTxn(t, path);
    long rev = commit();
    return (TxnResponse) stamp(r, rev);
  }

  private void decide(TxnRequest t, Map<TxnRequest, Boolean> path) {
    boolean ok = true;
    for (Compare c : t.compare()) {
      List<KeyValue> kvs = live(c.key(), c.rangeEnd(), revision);
      boolean holds = kvs.isEmpty() ? c.matches(null) : kvs.stream().allMatch(c::matches);
      ok &= holds;
    }
    path.put(t, ok);
    for (RequestOp op : ok ? t.success() : t.failure()) {
      if (op instanceof TxnRequest n) {
        decide(n, path);
      }
    }
  }

  private void checkPuts(TxnRequest t, Map<TxnRequest, Boolean> path) {
    for (RequestOp op : path.get(t) ? t.success() : t.failure()) {
      if (op instanceof PutRequest p) {
        checkPut(p);
      } else if (op instanceof TxnRequest n) {
        checkPuts(n, path);
      }
    }
  }

  private void checkRanges(TxnRequest t, Map<TxnRequest, Boolean> path) {
    for (RequestOp op : path.get(t) ? t.success() : t.failure()) {
      if (op instanceof RangeRequest r && r.revision() != 0) {
        if (r.revision() > revision) {
          throw new MvccException(MvccException.Code.FUTURE_REV);
        }
        if (r.revision() < compacted) {
          throw new MvccException(MvccException.Code.COMPACTED);
        }
      } else if (op instanceof TxnRequest n) {
        checkRanges(n, path);
      }
    }
  }

  private TxnResponse doTxn(TxnRequest t, Map<TxnRequest, Boolean> path) {
    boolean ok = path.get(t);
    List<ResponseOp> out = new ArrayList<>();
    for (RequestOp op : ok ? t.success() : t.failure()) {
      if (op instanceof RangeRequest r) {
        long current = changed() ? revision + 1 : revision;
        out.add(rangeAt(r, r.revision() <= 0 ? current : r.revision(), 0));
      } else if (op instanceof PutRequest p) {
        out.add(doPut(p));
      } else if (op instanceof DeleteRangeRequest d) {
        out.add(doDelete(d));
      } else {
        out.add(doTxn((TxnRequest) op, path));
      }
    }
    return new TxnResponse(0, ok, out);
  }

  private static ResponseOp stamp(ResponseOp r, long rev) {
    if (r instanceof RangeResponse x) {
      return new RangeResponse(rev, x.kvs(), x.more(), x.count());
    }
    if (r instanceof PutResponse x) {
      return new PutResponse(rev, x.prevKv());
    }
    if (r instanceof DeleteRangeResponse x) {
      return new DeleteRangeResponse(rev, x.deleted(), x.prevKvs());
    }
    TxnResponse x = (TxnResponse) r;
    return new TxnResponse(rev, x.succeeded(),
        x.responses().stream().map(n -> stamp(n, rev)).toList());
  }

  CompactResponse compact(long rev) {
    if (rev <= compacted) {
      throw new MvccException(MvccException.Code.COMPACTED);
    }
    if (rev > revision) {
      throw new MvccException(MvccException.Code.FUTURE_REV);
    }
    compacted = rev;
    return new CompactResponse(revision, rev);
  }

  Lease leaseGrant(long id, long ttl) {
    if (noSpace()) {
      throw new MvccException(MvccException.Code.NO_SPACE);
    }
    if (leases.containsKey(id)) {
      throw new MvccException(MvccException.Code.LEASE_EXISTS);
    }
    Lease l = new Lease(id, ttl, ttl);
    leases.put(id, l);
    return l;
  }

  LeaseRevokeResponse leaseRevoke(long id) {
    if (!leases.containsKey(id)) {
      throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
    }
    begin();
    List<KeyValue> attached = attached(id);
    for (KeyValue kv : attached) {
      write(kv.key(), null);
    }
    leases.remove(id);
    return new LeaseRevokeResponse(commit(), attached.size());
  }

  Lease leaseCheckpoint(long id, long remaining) {
    Lease old = leases.get(id);
    if (old == null) {
      throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
    }
    Lease l = new Lease(id, old.ttlSeconds(), remaining);
    leases.put(id, l);
    return l;
  }

  LeaseTimeToLive leaseTimeToLive(long id, boolean withKeys) {
    Lease l = leases.get(id);
    if (l == null) {
      throw new MvccException(MvccException.Code.LEASE_NOT_FOUND);
    }
    List<Bytes> keys = withKeys ? attached(id).stream().map(KeyValue::key).toList() : List.of();
    return new LeaseTimeToLive(l, keys);
  }

  private List<KeyValue> attached(long id) {
    List<KeyValue> out = new ArrayList<>();
    for (Bytes k : history.keySet()) {
      KeyValue kv = get(k, revision);
      if (kv != null && kv.lease() == id) {
        out.add(kv);
      }
    }
    return out;
  }

  /** Events of [from, to]; events at exactly the compacted revision carry no prevKv. */
  List<Event> events(long from, long to) {
    if (from < compacted) {
      throw new MvccException(MvccException.Code.COMPACTED);
    }
    List<Event> out = new ArrayList<>();
    for (Map.Entry<Long, List<Event>> e : log.subMap(from, true, to, true).entrySet()) {
      for (Event ev : e.getValue()) {
        out.add(e.getKey() == compacted ? new Event(ev.type(), ev.kv(), Optional.empty()) : ev);
      }
    }
    return out;
  }

  List<Event> eventsOf(long rev) {
    return log.getOrDefault(rev, List.of());
  }
}
