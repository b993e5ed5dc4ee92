package io.raftkv.mvcc;

import java.util.List;

/**
 * Told about each new revision, for the watch hub. Called on the applier thread right after the
 * revision is durable in the store (readers can already see it), in revision order.
 *
 * <p>Must not block and must not throw: it runs inside the apply loop; hand events to another
 * thread if work is needed. An exception is caught and dropped so that apply continues.
 */
@FunctionalInterface
public interface RevisionListener {

  /** Receives the events of {@code revision} in sub-revision order, each with its prevKv. */
  void onRevision(long revision, List<Event> events);
}
