/**
 * Peer transport: carries {@link io.raftkv.raft.Message}s between raftkv nodes over gRPC
 * (raftkv/peer.proto, service {@code raftkv.peer.Peer}) on the peer port, separate from the
 * client port.
 *
 * <p>Contract ({@link io.raftkv.server.transport.PeerTransport}): {@code send} must not block and
 * must not throw; it queues per peer and drops (and counts) what does not fit. Delivery is best
 * effort and ordered per (sender, receiver) pair, snapshots apart; Raft needs nothing more (its
 * RPCs are idempotent and retried, Raft §5.5).
 *
 * <p>Threads and ownership in {@link io.raftkv.server.transport.GrpcPeerTransport}:
 * <ul>
 *   <li>Callers of {@code send} (normally the driver thread) only append to a peer's bounded
 *       queue under that queue's monitor and schedule a flush; they never touch the network.</li>
 *   <li>Each peer is bound to one Vert.x event-loop context, which alone owns that peer's
 *       gRPC clients (one for messages, one for snapshots: separate connections), client
 *       stream, reconnect and keep-alive timers and snapshot upload, and drains its queue into
 *       {@code MessageBatch}es.</li>
 *   <li>Inbound streams run on the event loop of their connection. {@code onMessage},
 *       {@code onUnreachable} and {@code onSnapshotStatus} are called there, so handlers must
 *       be thread-safe and must not block: they hand events to the driver thread, which alone
 *       calls {@code RaftNode.step}, {@code reportUnreachable} and {@code reportSnapshot}.</li>
 *   <li>Messages handed to {@code send} belong to the transport from then on; messages handed
 *       to {@code onMessage} belong to the handler (decoding copies every array).</li>
 *   <li>{@code start}, {@code setPeers} and {@code close} serialize on one lock;
 *       {@code start} and {@code close} block for a bounded time, {@code setPeers} does not.</li>
 * </ul>
 *
 * <p>Snapshots (Raft §7) travel as a chunk stream ({@code SendSnapshot}) on a connection of their
 * own: a header with from/to/term and the metadata (index, term, ConfState including a joint
 * configuration), data chunks written only while the stream has room, and a last chunk with the
 * CRC32C of all data, which the receiver checks before handing an InstallSnapshot to Raft.
 */
package io.raftkv.server.transport;
