package smartchat.testmongo;

import java.util.List;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.IndexNotFoundException;
import de.bwaldvogel.mongo.oplog.Oplog;
import io.netty.channel.Channel;

import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;

/**
 * A {@link MemoryDatabase} whose collections are {@link IndexedMemoryCollection}s and whose non-unique
 * indexes, which the library ignores, are {@link EqualityLookupIndex}es.
 *
 * <p>{@code dropIndexes} by name is answered here: the library deletes the dropped index's description
 * with the whole description as the filter, which also deletes the same-named index descriptions of every
 * other collection; their indexes then outlive their descriptions and dropping the database fails.
 */
public class IndexedMemoryDatabase extends MemoryDatabase {

    public IndexedMemoryDatabase(String databaseName, CursorRegistry cursorRegistry) {
        super(databaseName, cursorRegistry);
    }

    @Override
    public Document handleCommand(Channel channel, String command, Document query, DatabaseResolver databaseResolver, Oplog oplog) {
        if (command.equalsIgnoreCase("dropIndexes") && query.get("index") instanceof String name && !name.equals("*")) {
            MongoCollection<Integer> collection = resolveCollection((String) query.get(command), false);
            if (collection != null) {
                Document description = new Document("ns", collection.getFullName()).append("name", name);
                if (!indexes.get().handleQuery(description).iterator().hasNext()) {
                    throw new IndexNotFoundException("index not found with name [" + name + "]");
                }
                collection.dropIndex(name);
                indexes.get().deleteDocuments(description, 1);
            }
            Document response = new Document();
            Utils.markOkay(response);
            return response;
        }
        return super.handleCommand(channel, command, query, databaseResolver, oplog);
    }

    @Override
    protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
        return new IndexedMemoryCollection(this, collectionName, options, cursorRegistry);
    }

    @Override
    protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
        return new EqualityLookupIndex(indexName, keys);
    }
}
