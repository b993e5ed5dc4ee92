package io.raftkv.server.transport;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.server.api.peer.MessageBatch;
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

        MessageBatch batch = GrpcPeerTransport.parseBatch(payload);
        Message decoded = RaftMessageCodec.fromProto(batch.getMessages(0));
        assertThat(decoded).usingRecursiveComparison().isEqualTo(append);
        assertThat(batch.getSenderPeerUrl()).isEqualTo("http://127.0.0.1:2380");

        // Nothing writes to a received payload; here the test does, to show who shares its bytes.
        int at = new String(payload, StandardCharsets.ISO_8859_1).indexOf("second-entry"); // one char per byte
        payload[at] = 'S';
        assertThat(batch.getMessages(0).getAppendEntries().getEntries(1).getData().toStringUtf8()).isEqualTo("Second-entry");
        assertThat(((Message.AppendEntries) decoded).entries().get(1).data()).isEqualTo(bytes("second-entry"));
    }
}
