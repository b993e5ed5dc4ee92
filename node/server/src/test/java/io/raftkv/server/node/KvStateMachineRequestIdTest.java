package io.raftkv.server.node;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.internal.InternalRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The request id is read from a committed entry without parsing the request; the request is parsed without copies. */
class KvStateMachineRequestIdTest {
    @TempDir
    Path dir;

    @Test
    void readsTheIdWhereverItIsAndZeroWhenAbsent() throws Exception {
        try (KvStateMachine m = new KvStateMachine(dir, MvccOptions.defaults(), MemberTable.open(dir))) {
            PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                    .setValue(ByteString.copyFrom(new byte[300])).build();
            long id = 0x8123_4567_89ab_cdefL;
            assertThat(m.requestId(InternalRequest.newBuilder().setId(id).setPut(put).build().toByteArray()))
                    .isEqualTo(id);
            assertThat(m.requestId(InternalRequest.newBuilder().setPut(put).build().toByteArray())).isZero();
            // A writer may put the fields in any order: the put first, then the id.
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            out.writeMessage(InternalRequest.PUT_FIELD_NUMBER, put);
            out.writeUInt64(InternalRequest.ID_FIELD_NUMBER, 42);
            out.flush();
            assertThat(m.requestId(bytes.toByteArray())).isEqualTo(42);
            assertThatThrownBy(() -> m.requestId(new byte[] {0x12, 0x7f, 0x01}))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void parsedRequestBytesAreViewsOfTheEntry() {
        PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("key"))
                .setValue(ByteString.copyFromUtf8("value")).build();
        byte[] data = InternalRequest.newBuilder().setId(7).setPut(put).build().toByteArray();
        InternalRequest parsed = KvStateMachine.parse(data);
        assertThat(parsed.getPut()).isEqualTo(put);
        // Entry data is never written; here it is, to show the parsed value shares its bytes.
        int at = new String(data, StandardCharsets.ISO_8859_1).indexOf("value"); // one char per byte
        data[at] = 'V';
        assertThat(parsed.getPut().getValue().toStringUtf8()).isEqualTo("Value");
    }
}
