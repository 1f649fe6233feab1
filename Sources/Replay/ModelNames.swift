import WritebackModel

// KernelEvents also names a type `InodeRef` (its `InodeKey`), and the module
// WritebackModel has a type of its own name, so `WritebackModel.InodeRef`
// does not resolve: this file imports only the model.

/// An inode incarnation as the model keys it (dev, ino, generation).
typealias ModelInode = InodeRef
