package io.raftkv.mvcc;

import java.util.List;

/**
 * The answer to a lease time-to-live query, as etcd's {@code LeaseTimeToLiveResponse}.
 *
 * @param lease the stored lease
 * @param keys attached keys in key order (empty unless asked for)
 */
public record LeaseTimeToLive(Lease lease, List<Bytes> keys) {

  /** Copies the list. */
  public LeaseTimeToLive {
    keys = List.copyOf(keys);
  }
}
