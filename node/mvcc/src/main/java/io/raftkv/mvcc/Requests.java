package io.raftkv.mvcc;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Request checks that need no state, as etcd's gRPC layer does before proposing (etcd
 * {@code v3rpc/key.go}: checkRangeRequest, checkPutRequest, checkDeleteRequest,
 * checkTxnRequest, checkIntervals). Shared by the store and the test model: they are rules of
 * the request format, not of the state machine.
 */
final class Requests {

  private Requests() {}

  static void checkRange(RangeRequest r) {
    if (r.key().isEmpty()) {
      throw new MvccException(MvccException.Code.EMPTY_KEY);
    }
  }

  static void checkPut(PutRequest r) {
    if (r.key().isEmpty()) {
      throw new MvccException(MvccException.Code.EMPTY_KEY);
    }
    if (r.ignoreValue() && !r.value().isEmpty()) {
      throw new MvccException(MvccException.Code.VALUE_PROVIDED);
    }
    if (r.ignoreLease() && r.lease() != 0) {
      throw new MvccException(MvccException.Code.LEASE_PROVIDED);
    }
  }

  static void checkDelete(DeleteRangeRequest r) {
    if (r.key().isEmpty()) {
      throw new MvccException(MvccException.Code.EMPTY_KEY);
    }
  }

  /** Shape checks of every op of both branches, recursively, then the duplicate-key rule. */
  static void checkTxn(TxnRequest t) {
    checkTxnShape(t);
    checkIntervals(t.success());
    checkIntervals(t.failure());
  }

  private static void checkTxnShape(TxnRequest t) {
    for (Compare c : t.compare()) {
      if (c.key().isEmpty()) {
        throw new MvccException(MvccException.Code.EMPTY_KEY);
      }
    }
    for (List<RequestOp> branch : List.of(t.success(), t.failure())) {
      for (RequestOp op : branch) {
        if (op instanceof RangeRequest r) {
          checkRange(r);
        } else if (op instanceof PutRequest p) {
          checkPut(p);
        } else if (op instanceof DeleteRangeRequest d) {
          checkDelete(d);
        } else {
          checkTxnShape((TxnRequest) op);
        }
      }
    }
  }

  /** Whether any branch at any depth of {@code t} holds a put (etcd: such a txn costs quota). */
  static boolean hasPut(TxnRequest t) {
    for (List<RequestOp> branch : List.of(t.success(), t.failure())) {
      for (RequestOp op : branch) {
        if (op instanceof PutRequest || (op instanceof TxnRequest n && hasPut(n))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * A deleted key range as etcd's checkIntervals sees it: {@code [start, end)} compared as plain
   * strings, a single key when {@code point}. etcd builds it with {@code NewStringAffineInterval},
   * where only the empty string is unbounded, so a range end of {@code "\0"} ("to the end") is an
   * inverted interval that still overlaps its own start key but no other key: etcd accepts
   * "delete from a to the end, then put b" in one branch. That quirk is kept on purpose, so that
   * clients get the same answer as from etcd.
   */
  private record Interval(Bytes start, Bytes end, boolean point) {
    boolean contains(Bytes k) {
      if (start.equals(k)) {
        return true;
      }
      return !point && start.compareTo(k) < 0 && k.compareTo(end) < 0;
    }
  }

  private record Writes(Set<Bytes> puts, List<Interval> dels) {}

  /**
   * etcd's checkIntervals: within one branch no key may be put twice; a put at this level may not
   * fall in a range deleted at this level or in any nested txn; a put in a nested txn may not fall
   * in a range deleted at this level or in an earlier nested txn; puts of a nested txn's success
   * and failure branches may repeat each other since only one runs. Puts of an earlier nested
   * txn are not checked against deletes of a later one (etcd does not either), so one revision
   * can hold a put and a delete of the same key.
   */
  private static Writes checkIntervals(List<RequestOp> ops) {
    List<Interval> dels = new ArrayList<>();
    for (RequestOp op : ops) {
      if (op instanceof DeleteRangeRequest d) {
        dels.add(interval(d.key(), d.rangeEnd()));
      }
    }
    Set<Bytes> puts = new HashSet<>();
    for (RequestOp op : ops) {
      if (!(op instanceof TxnRequest n)) {
        continue;
      }
      Writes then = checkIntervals(n.success());
      Writes otherwise = checkIntervals(n.failure());
      for (Bytes k : then.puts()) {
        if (puts.contains(k) || intersects(dels, k)) {
          throw new MvccException(MvccException.Code.DUPLICATE_KEY);
        }
        puts.add(k);
      }
      for (Bytes k : otherwise.puts()) {
        if ((puts.contains(k) && !then.puts().contains(k)) || intersects(dels, k)) {
          throw new MvccException(MvccException.Code.DUPLICATE_KEY);
        }
        puts.add(k);
      }
      dels.addAll(then.dels());
      dels.addAll(otherwise.dels());
    }
    for (RequestOp op : ops) {
      if (op instanceof PutRequest p) {
        if (puts.contains(p.key()) || intersects(dels, p.key())) {
          throw new MvccException(MvccException.Code.DUPLICATE_KEY);
        }
        puts.add(p.key());
      }
    }
    return new Writes(puts, dels);
  }

  private static Interval interval(Bytes key, Bytes end) {
    return new Interval(key, end, end.isEmpty());
  }

  private static boolean intersects(List<Interval> dels, Bytes k) {
    for (Interval iv : dels) {
      if (iv.contains(k)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code k} lies in the range {@code (key, rangeEnd)} with etcd's conventions. */
  static boolean inRange(Bytes key, Bytes rangeEnd, Bytes k) {
    if (rangeEnd.isEmpty()) {
      return key.equals(k);
    }
    if (rangeEnd.equals(Bytes.NUL)) {
      return k.compareTo(key) >= 0;
    }
    return k.compareTo(key) >= 0 && k.compareTo(rangeEnd) < 0;
  }
}
