package localstore

import (
	"context"
	"sync"

	"mailmover/core/copier"
	"mailmover/core/mbox"
)

// BackupEndpoint returns the copier endpoint of the backup tree at root. Its
// connections share one tree, so workers writing different folders at once
// keep one manifest.
func BackupEndpoint(root string) copier.Endpoint {
	var once sync.Once
	var tree *mbox.Tree
	var err error
	return copier.Endpoint{
		Name: "backup " + root,
		Dial: func(ctx context.Context) (copier.TargetConn, error) {
			once.Do(func() { tree, err = mbox.OpenTree(ctx, root) })
			if err != nil {
				return nil, err
			}
			return &Backup{tree: tree}, nil
		},
	}
}

// ArchiveEndpoint returns the copier endpoint of local folders; name
// describes them ("Thunderbird profile ...").
func ArchiveEndpoint(name string, a *Archive) copier.Endpoint {
	return copier.Endpoint{
		Name: name,
		Dial: func(ctx context.Context) (copier.TargetConn, error) { return a.conn(), nil },
	}
}
