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

  /**
   * Receives the events of {@code revision} in sub-revision order. A delete's event has its
   * prevKv. A put's event has its prevKv if the key had a live version and some listener
   * {@linkplain #wantsPrevValues() wants previous values} or the put asked for it; otherwise it
   * may have none although the key had a version (then {@code kv().version() > 1}): the store
   * does not read the previous value only for the event. Look it up at {@code modRevision - 1}.
   */
  void onRevision(long revision, List<Event> events);

  /**
   * Whether this listener wants puts' events to carry the previous value. Asked on the applier
   * thread before each put; must be cheap. The answer may change at any time: a listener that
   * starts to want values must still expect puts applied meanwhile to come without them.
   */
  default boolean wantsPrevValues() {
    return true;
  }
}
