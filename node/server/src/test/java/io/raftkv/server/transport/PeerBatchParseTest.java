package io.raftkv.server.transport;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.server.api.peer.MessageBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.raftkv.server.transport.SampleMessages.bytes;
import static org.assertj.core.api.Assertions.assertThat;

/** A received peer batch is parsed without copying entry data; the decoded messages own theirs. */
class PeerBatchParseTest {

    @Test
    void entryDataAliasesThePayloadAndDecodedEntriesAreCopies() throws Exception {
        Message append = new Message.AppendEntries(1, 2, 7, 40, 6,
                List.of(Entry.normal(7, 41, bytes("first-entry")), Entry.normal(7, 42, bytes("second-entry"))), 39);
        byte[] payload = MessageBatch.newBuilder().addMessages(RaftMessageCodec.toProto(append))
                .setSenderPeerUrl("http://127.0.0.1:2380").build().toByteArray();

        MessageBatch batch = GrpcPeerTransport.parseBatch(payload, 0, payload.length);
        Message decoded = RaftMessageCodec.fromProto(batch.getMessages(0));
        assertThat(decoded).usingRecursiveComparison().isEqualTo(append);
        assertThat(batch.getSenderPeerUrl()).isEqualTo("http://127.0.0.1:2380");

        // Nothing writes to a received payload; here the test does, to show who shares its bytes.
        int at = new String(payload, StandardCharsets.ISO_8859_1).indexOf("second-entry"); // one char per byte
        payload[at] = 'S';
        assertThat(batch.getMessages(0).getAppendEntries().getEntries(1).getData().toStringUtf8()).isEqualTo("Second-entry");
        assertThat(((Message.AppendEntries) decoded).entries().get(1).data()).isEqualTo(bytes("second-entry"));
    }

    @Test
    void aReceivedHeapFrameIsParsedInPlaceAndAPooledOneIsCopied() throws Exception {
        Message append = new Message.AppendEntries(1, 2, 7, 40, 6, List.of(Entry.normal(7, 41, bytes("only-entry"))), 39);
        byte[] message = MessageBatch.newBuilder().addMessages(RaftMessageCodec.toProto(append)).build().toByteArray();
        // as Vert.x hands a gRPC message over: a slice of an unpooled heap frame, after other bytes
        byte[] frame = new byte[5 + message.length + 3];
        System.arraycopy(message, 0, frame, 5, message.length);
        Buffer slice = Buffer.buffer(Unpooled.wrappedBuffer(frame)).slice(5, 5 + message.length);

        MessageBatch inPlace = GrpcPeerTransport.parseBatch(slice);
        assertThat(RaftMessageCodec.fromProto(inPlace.getMessages(0))).usingRecursiveComparison().isEqualTo(append);
        int at = new String(frame, StandardCharsets.ISO_8859_1).indexOf("only-entry");
        frame[at] = 'O';
        assertThat(inPlace.getMessages(0).getAppendEntries().getEntries(0).getData().toStringUtf8())
                .isEqualTo("Only-entry");

        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.heapBuffer(message.length);
        try {
            pooled.writeBytes(message);
            MessageBatch copied = GrpcPeerTransport.parseBatch(Buffer.buffer(pooled));
            pooled.setByte(at - 5, 'O'); // the pool may reuse this memory once released
            assertThat(copied.getMessages(0).getAppendEntries().getEntries(0).getData().toStringUtf8())
                    .isEqualTo("only-entry");
        } finally {
            pooled.release();
        }
    }
}
