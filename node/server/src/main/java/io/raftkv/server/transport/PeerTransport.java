package io.raftkv.server.transport;

import io.raftkv.raft.Message;

import java.util.List;
import java.util.Map;

/**
 * Carries Raft messages between nodes. Raft tolerates loss, duplication, delay and reordering
 * (its RPCs are idempotent and retried, Raft §5.5), so the transport promises only best effort,
 * with one extra: messages other than InstallSnapshot from this node to one peer that are
 * delivered at all are delivered in the order of {@link #send}.
 *
 * <p>Lifecycle: construct, {@link #start}, then any number of {@link #setPeers} and
 * {@link #send} calls from any thread, then {@link #close}.
 */
public interface PeerTransport extends AutoCloseable {

    /**
     * Receives what the transport has to tell the node. Every method is called from a transport
     * thread (never the caller of {@link #send}), possibly from several threads at once, and must
     * not block: hand the event to the driver thread, which alone may touch the Raft node.
     */
    interface MessageHandler {
        /**
         * A message arrived. The transport does not check {@link Message#to()} (a joining node
         * learns its id from it). The message and its arrays are the callee's.
         */
        void onMessage(Message message);

        /**
         * The stream to {@code peer} failed or could not be opened; messages queued for it may be
         * lost. The driver calls {@code RaftNode.reportUnreachable(peer)} so that a leader stops
         * pipelining to it and probes instead. Repeated while the peer stays unreachable (at
         * most once per reconnect attempt).
         */
        void onUnreachable(long peer);

        /**
         * A snapshot sent to {@code peer} was accepted ({@code success}) or failed (connection,
         * rejection by the receiver, another snapshot already in flight, unknown peer, close).
         * Once per InstallSnapshot passed to {@link #send} after {@link #start}; the driver calls
         * {@code RaftNode.reportSnapshot}.
         */
        void onSnapshotStatus(long peer, boolean success);

        /**
         * A keepalive PING to {@code peer} came back after {@code nanos} (for etcd's
         * etcd_network_peer_round_trip_time_seconds). Default: ignored.
         */
        default void onRoundTrip(long peer, long nanos) {
        }

        /**
         * A peer refused this member's messages because the cluster removed this member (etcd
         * stops such a member). Default: ignored.
         */
        default void onRemoved() {
        }
    }

    /**
     * Starts listening on the peer address and enables sending. Blocks until the listener is
     * bound; call once.
     *
     * @throws IllegalStateException if already started or closed, or the address cannot be bound
     */
    void start(MessageHandler handler);

    /**
     * Replaces the set of peers this node can send to: peer id to {@code host:port} of its peer
     * listener. Peers no longer present are disconnected and their queues dropped; a peer whose
     * address changed is reconnected at the new address. Leave this node out. Thread-safe; does not block on the network. Membership changes call it at runtime.
     *
     * @throws IllegalArgumentException if an address is not {@code host:port}
     */
    void setPeers(Map<Long, String> peers);

    /**
     * Queues messages for their receivers ({@link Message#to()}) and returns at once.
     *
     * <p>Must not block; must not throw. A message for an unknown peer, or one that does not fit
     * the receiver's bounded queue, is dropped and counted in {@link #droppedMessages()}; Raft
     * retransmits what matters. Thread-safe. Ownership of the messages and their arrays passes to
     * the transport: the caller must not mutate them afterwards.
     *
     * <p>An {@link Message.InstallSnapshot} may travel apart from (and overtake, or be overtaken
     * by) the other messages to its peer; its outcome is reported through
     * {@link MessageHandler#onSnapshotStatus}.
     */
    void send(List<Message> messages);

    /** Total messages dropped so far (unknown peer, queue full, not started, closed). */
    long droppedMessages();

    /**
     * Stops listening, ends every stream and fails snapshots in flight. Blocks for a bounded time
     * until the listener and connections are closed; idempotent.
     */
    @Override
    void close();

    /**
     * Sets this member's advertised peer URL, sent with every batch so that receivers that do
     * not know this member yet (a member that just joined) can answer it. Any thread.
     */
    void setAdvertisedPeerUrl(String url);

    /**
     * Sets the ids of members removed from the cluster: their streams are refused with a status
     * that tells them so, and they stop. Any thread.
     */
    void setRemovedPeers(java.util.Set<Long> removed);
}
