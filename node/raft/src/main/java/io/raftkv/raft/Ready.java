package io.raftkv.raft;

import java.util.List;

/**
 * Everything the application must do after feeding the core input: the output side of the
 * Ready contract. Process it in this order, then call {@link RaftNode#advance(Ready)}:
 *
 * <ol>
 *   <li>Persist {@link #snapshot()} (if any), then {@link #entries()} (replacing any conflicting
 *       suffix), then {@link #hardState()} (if non-null), durably (fsync) when
 *       {@link #mustSync()}. A follower's vote and appended entries must be durable before any
 *       message leaves: its replies promise exactly that.</li>
 *   <li>Send {@link #messages()}.</li>
 *   <li>Apply {@link #snapshot()} to the state machine, then {@link #committedEntries()} in order.
 *       Only these entries are committed; never apply anything else.</li>
 *   <li>Serve each {@link ReadState} once the applied index reaches its index.</li>
 * </ol>
 *
 * @param softState        new leader/role if changed, else null
 * @param hardState        hard state to persist if changed, else null
 * @param entries          unstable entries to persist
 * @param snapshot         snapshot received from the leader to persist and apply, else null
 * @param messages         messages to send after persisting
 * @param committedEntries committed entries to apply, in order
 * @param readStates       ReadIndex results
 * @param mustSync         whether the persisted state must be fsynced before sending
 */
public record Ready(SoftState softState, HardState hardState, List<Entry> entries, Snapshot snapshot,
                    List<Message> messages, List<Entry> committedEntries, List<ReadState> readStates,
                    boolean mustSync) {

    /** True if there is nothing to persist, send, apply or serve. */
    public boolean isEmpty() {
        return softState == null && hardState == null && entries.isEmpty() && snapshot == null
                && messages.isEmpty() && committedEntries.isEmpty() && readStates.isEmpty();
    }
}
