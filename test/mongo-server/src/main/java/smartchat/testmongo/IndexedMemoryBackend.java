package smartchat.testmongo;

import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;

/**
 * mongo-java-server's memory backend, except that its collections are {@link IndexedMemoryCollection}s:
 * they use a unique index whenever the filter pins every key of that index by equality, not only when
 * the filter has no other field (see that class).
 */
public class IndexedMemoryBackend extends MemoryBackend {

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new IndexedMemoryDatabase(databaseName, getCursorRegistry());
    }
}
