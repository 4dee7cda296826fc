#!/usr/bin/perl
# Every storage method through the shim, linstor-pve and the real embedded
# controller: allocate, list, activate, path, write, snapshot, write more,
# roll back (the data is the snapshot's), clones of a snapshot and of a disk
# (progress on stderr), a snapshot's own device (vzdump), export and import (raw+size),
# bad input changing nothing, template + two linked
# clones, free refusing the base, resize, rename, status (and its cache shared
# between processes), free.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Storable qw(dclone);
use Sys::Hostname qw(hostname);
use Test::More;

use LINSTORPlugin;
use LinstorTestController;

my $plugin = 'PVE::Storage::Custom::LINSTORPlugin';
my ($node) = split(/\./, hostname());

my $controller = LinstorTestController->start();
END { $controller->stop() if $controller }
$controller->setup(node => $node, group => 'pvetest');
$ENV{LINSTOR_PVE_CACHE_DIR} = $controller->dir() . '/cache';

my $storeid = 'ls';
my $scfg = { type => 'linstor', content => { images => 1 }, resourcegroup => 'pvetest',
    controller => $controller->url(), statuscache => 30 };
my $MiB = 1024 * 1024;

sub dies_like(&$$) {
    my ($code, $pattern, $name) = @_;
    eval { $code->() };
    like($@, $pattern, $name);
}

# Direct I/O, so neither write nor read stops in a page cache the snapshot does not see.
sub write_at {
    my ($path, $text) = @_;
    my $block = $text . ("\0" x (4096 - length($text)));
    open(my $dd, '|-', 'dd', "of=$path", 'bs=4096', 'count=1', 'oflag=direct', 'conv=notrunc,fsync',
        'status=none') or die "dd: $!";
    print {$dd} $block;
    close($dd) or die "dd of=$path failed\n";
}

sub read_at {
    my ($path, $length) = @_;
    open(my $dd, '-|', 'dd', "if=$path", 'bs=4096', 'count=1', 'iflag=direct', 'status=none')
        or die "dd: $!";
    local $/;
    my $data = <$dd>;
    close($dd) or die "dd if=$path failed\n";
    return substr($data, 0, $length);
}

sub volids { return [ sort map { $_->{volid} } @{ $plugin->list_images($storeid, $scfg, @_) } ] }

sub snapshots {
    return [ sort map { "$_->{resource_name}\@$_->{name}" } @{ $controller->request('GET', '/v1/view/snapshots') } ];
}

# What linstor-pve writes to stderr (PVE's task log) while $code runs, and $code's answer.
sub stderr_of(&) {
    my ($code) = @_;
    my $file = $controller->dir() . '/stderr';
    open(my $saved, '>&', \*STDERR) or die "dup STDERR: $!";
    open(STDERR, '>', $file) or die "$file: $!";
    my $answer = eval { $code->() };
    my $error = $@;
    open(STDERR, '>&', $saved) or die "restore STDERR: $!";
    die $error if $error;
    open(my $log, '<', $file) or die "$file: $!";
    local $/;
    return (scalar(<$log>), $answer);
}

# allocate, list, activate, path
is($plugin->alloc_image($storeid, $scfg, 100, 'raw', undef, 16 * 1024), 'vm-100-disk-0', 'alloc');
is($plugin->alloc_image($storeid, $scfg, 100, 'raw', 'vm-100-cloudinit', 4 * 1024), 'vm-100-cloudinit',
    'alloc cloudinit');
is($plugin->alloc_image($storeid, $scfg, 100, 'raw', 'vm-100-cloudinit', 4 * 1024), 'vm-100-cloudinit',
    'cloudinit again: idempotent');
is_deeply(volids(), ['ls:vm-100-cloudinit', 'ls:vm-100-disk-0'], 'list');
my ($image) = grep { $_->{volid} eq 'ls:vm-100-disk-0' } @{ $plugin->list_images($storeid, $scfg, 100) };
is($image->{size}, 16 * $MiB, 'listed size in bytes');
is($image->{vmid}, 100, 'listed vmid');

ok($plugin->activate_volume($storeid, $scfg, 'vm-100-disk-0'), 'activate');
my ($path, $vmid, $vtype) = $plugin->path($scfg, 'vm-100-disk-0', $storeid);
ok(-e $path, "path $path exists");
is_deeply([$vmid, $vtype], [100, 'images'], 'path vmid and vtype');
ok(-b $path, 'a block device (loop)') if $> == 0 && -e '/dev/loop-control';
{
    no warnings 'once';
    # a copy, as PVE::Storage::config() returns one (dclone): the section is found by its content
    local *PVE::Storage::config = sub { return { ids => { other => {}, $storeid => dclone($scfg) } } };
    is(scalar($plugin->filesystem_path($scfg, 'vm-100-disk-0')), $path, 'filesystem_path finds its storage');
}

is($plugin->volume_has_feature($scfg, 'sparseinit', $storeid, 'vm-100-disk-0', undef, 0), 1,
    'sparseinit: a FILE pool starts zeroed');

# write, snapshot, write more, roll back
write_at($path, 'first');
is($plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', 'snap1'), undef, 'snapshot');
write_at($path, 'second');
is(read_at($path, 6), 'second', 'data written after the snapshot');
ok($plugin->volume_rollback_is_possible($scfg, $storeid, 'vm-100-disk-0', 'snap1'), 'rollback possible');
$plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', 'newer');
my $blockers = [];
dies_like { $plugin->volume_rollback_is_possible($scfg, $storeid, 'vm-100-disk-0', 'snap1', $blockers) }
    qr/^can't rollback, 'snap1' is not most recent snapshot on 'vm-100-disk-0'$/, 'a newer snapshot blocks it';
is_deeply($blockers, ['newer'], 'the newer snapshot is the blocker');
$plugin->volume_snapshot_delete($scfg, $storeid, 'vm-100-disk-0', 'newer');
$plugin->volume_snapshot_rollback($scfg, $storeid, 'vm-100-disk-0', 'snap1');
($path) = $plugin->path($scfg, 'vm-100-disk-0', $storeid);
is(read_at($path, 5), 'first', 'after rollback the data is the snapshot\'s');
$plugin->volume_snapshot_delete($scfg, $storeid, 'vm-100-disk-0', 'snap1');
is_deeply(snapshots(), [], 'snapshot deleted');

# clone from a snapshot (restored, independent) and a full clone (clone API, progress on stderr)
$plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', 'snap2');
write_at($path, 'third');
is($plugin->clone_image($scfg, $storeid, 'vm-100-disk-0', 103, 'snap2'), 'vm-103-disk-0', 'clone a snapshot');
my ($log, $full) = stderr_of { $plugin->clone_image($scfg, $storeid, 'vm-100-disk-0', 103) };
is($full, 'vm-103-disk-1', 'full clone');
like($log, qr/^cloned ls:vm-100-disk-0 to ls:vm-103-disk-1 \(pve-103-disk-1\)$/m, 'progress on stderr');
for ([ 'vm-103-disk-0', 'first' ], [ 'vm-103-disk-1', 'third' ]) {
    my ($volname, $data) = @$_;
    my ($copy) = $plugin->path($scfg, $volname, $storeid);  # before activation, as qemu-server asks
    ok($plugin->activate_volume($storeid, $scfg, $volname), "activate $volname");
    is(read_at($copy, 5), $data, "$volname holds $data");
    $plugin->deactivate_volume($storeid, $scfg, $volname);
}
$plugin->volume_snapshot_delete($scfg, $storeid, 'vm-100-disk-0', 'snap2');

# a container backup in snapshot mode (vzdump): the 'vzdump' snapshot, activated with its name,
# has a path of its own showing the snapshot's data; deleting the snapshot removes that view
$plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', 'vzdump');
write_at($path, 'fourth');
ok($plugin->activate_volume($storeid, $scfg, 'vm-100-disk-0', 'vzdump'), 'activate the vzdump snapshot');
my ($view) = $plugin->path($scfg, 'vm-100-disk-0', $storeid, 'vzdump');
isnt($view, $path, 'the snapshot has a device of its own');
is(read_at($view, 5), 'third', 'it shows the snapshot\'s data');
is(read_at($path, 6), 'fourth', 'the disk keeps its own');
$plugin->volume_snapshot_delete($scfg, $storeid, 'vm-100-disk-0', 'vzdump');
is_deeply(snapshots(), [], 'the vzdump snapshot deleted');
is_deeply([ grep { $_->{name} =~ /^pvesnap-/ } @{ $controller->request('GET', '/v1/resource-definitions') } ], [],
    'and its view');

# bad input: a clear die, nothing changed
my ($before, $snapshots_before) = (volids(), snapshots());
dies_like { $plugin->alloc_image($storeid, $scfg, 100, 'raw', 'vm-999-disk-0', 4096) }
    qr/belongs to VM 999, not to VM 100/, 'vmid mismatch';
dies_like { $plugin->alloc_image($storeid, $scfg, 100, 'raw', 'vm-100-disk-0', 4096) }
    qr/already exists/, 'existing name';
dies_like { $plugin->alloc_image($storeid, $scfg, 100, 'qcow2', undef, 4096) }
    qr/invalid format 'qcow2'/, 'qcow2 refused';
dies_like { $plugin->rename_volume($scfg, $storeid, 'vm-100-disk-0', 102, 'vm-103-disk-5') }
    qr/belongs to VM 103, not to VM 102/, 'rename: vmid mismatch';
for my $snap (qw(__base__ current __migration__ __replicate_100-0_1700000000__)) {
    dies_like { $plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', $snap) }
        qr/reserved by Proxmox VE/, "snapshot name $snap refused";
    dies_like { $plugin->volume_snapshot_rollback($scfg, $storeid, 'vm-100-disk-0', $snap) }
        qr/reserved by Proxmox VE/, "rollback to $snap refused";
}
dies_like { $plugin->path($scfg, 'vm-100-disk-0.raw', $storeid) } qr/invalid volname/, 'malformed volname';
dies_like { $plugin->free_image($storeid, $scfg, '../vm-100-disk-0', 0) } qr/invalid volname/,
    'malformed volname to free';
dies_like { $plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0/vm-101-disk-0', 'snap3') }
    qr/invalid volname/, 'malformed linked-clone volname';
dies_like { $plugin->alloc_image($storeid, { %$scfg, redundancy => 2 }, 100, 'raw', undef, 4096) }
    qr/invalid storage option 'redundancy'/, 'unknown storage option';
is(scalar($plugin->path($scfg, 'vm-100-disk-7', $storeid)), '/dev/linstor-pve/absent/ls/vm-100-disk-7',
    'a missing volume has a path that exists nowhere (a rescan or the content API asks)');
dies_like { $plugin->activate_volume($storeid, $scfg, 'vm-100-disk-7') } qr/ls:vm-100-disk-7 does not exist/,
    'missing volume';
is_deeply(volids(), $before, 'nothing changed: volumes');
is_deeply(snapshots(), $snapshots_before, 'nothing changed: snapshots');

# template and two linked clones
$plugin->deactivate_volume($storeid, $scfg, 'vm-100-disk-0');
is($plugin->create_base($storeid, $scfg, 'vm-100-disk-0'), 'base-100-disk-0', 'create_base');
is($plugin->clone_image($scfg, $storeid, 'base-100-disk-0', 101), 'base-100-disk-0/vm-101-disk-0',
    'first linked clone');
is($plugin->clone_image($scfg, $storeid, 'base-100-disk-0', 101), 'base-100-disk-0/vm-101-disk-1',
    'second linked clone');
is_deeply(volids(101), ['ls:base-100-disk-0/vm-101-disk-0', 'ls:base-100-disk-0/vm-101-disk-1'],
    'clones listed with their base');
$plugin->activate_volume($storeid, $scfg, 'base-100-disk-0/vm-101-disk-1');
my ($clone_path) = $plugin->path($scfg, 'base-100-disk-0/vm-101-disk-1', $storeid);
is(read_at($clone_path, 6), 'fourth', 'the clone holds the template\'s data');
dies_like { $plugin->free_image($storeid, $scfg, 'base-100-disk-0', 1) }
    qr/base volume ls:base-100-disk-0 has linked clones/, 'free refuses the base';

# resize, size info, rename, status
$plugin->volume_resize($scfg, $storeid, 'base-100-disk-0/vm-101-disk-1', 32 * $MiB, 0);
my @info = $plugin->volume_size_info($scfg, $storeid, 'base-100-disk-0/vm-101-disk-1');
is($info[0], 32 * $MiB, 'resized to 32 MiB');
is($info[3], 'base-100-disk-0@__base__', 'size info names the parent');
is(scalar($plugin->volume_size_info($scfg, $storeid, 'base-100-disk-0/vm-101-disk-1')), 32 * $MiB,
    'size info in scalar context');
is($plugin->rename_volume($scfg, $storeid, 'base-100-disk-0/vm-101-disk-0', 102),
    'ls:base-100-disk-0/vm-102-disk-0', 'rename to another guest');
my ($total, $free, $used, $active) = $plugin->status($storeid, $scfg);
ok($total > 0 && $free > 0 && $active, "status: $total total, $free free");
ok($plugin->check_connection($storeid, $scfg), 'check_connection');

# qemu-server asks for an imported image's bytes / 1024 KiB: a fraction is rounded up
my $odd = 10 * 1024 * 1024 + 512;
is($plugin->alloc_image($storeid, $scfg, 104, 'raw', undef, $odd / 1024), 'vm-104-disk-0', 'alloc of a fractional KiB size');
is(scalar($plugin->volume_size_info($scfg, $storeid, 'vm-104-disk-0')), 10 * 1024 * 1024 + 1024,
    'rounded up to the next KiB: the image fits');
$plugin->free_image($storeid, $scfg, 'vm-104-disk-0', 0);

# export and import (an offline migration off a storage that is not shared): raw+size through
# a handle PVE opened, which Perl opens close-on-exec; and through pvesm's own STDOUT/STDIN
is_deeply([ $plugin->volume_export_formats($scfg, $storeid, 'vm-103-disk-1', undef, undef, 0) ], ['raw+size'],
    'export formats');
is_deeply([ $plugin->volume_import_formats($scfg, $storeid, 'vm-105-disk-0', undef, undef, 1) ], [],
    'no import format with snapshots');
my $stream = $controller->dir() . '/stream';
open(my $out, '>', $stream) or die "open $stream: $!";
is($plugin->volume_export($scfg, $storeid, $out, 'vm-103-disk-1', 'raw+size', undef, undef, 0), undef, 'export');
close($out);
is(-s $stream, 8 + scalar($plugin->volume_size_info($scfg, $storeid, 'vm-103-disk-1')), 'the size, then the disk');
open(my $in, '<', $stream) or die "open $stream: $!";
is($plugin->volume_import($scfg, $storeid, $in, 'vm-105-disk-0', 'raw+size', undef, undef, 0, 0),
    "$storeid:vm-105-disk-0", 'import');
close($in);
my ($imported) = $plugin->path($scfg, 'vm-105-disk-0', $storeid);
is(read_at($imported, 5), 'third', 'the imported disk holds the exported data');
{
    open(my $saved, '<&', \*STDIN) or die "dup STDIN: $!";
    open(STDIN, '<', $stream) or die "open $stream: $!";
    my $volid = eval { $plugin->volume_import($scfg, $storeid, \*STDIN, 'vm-105-disk-0', 'raw+size', undef, undef, 0, 1) };
    my $error = $@;
    open(STDIN, '<&', $saved) or die "restore STDIN: $!";
    is($volid, "$storeid:vm-105-disk-1", "from pvesm's STDIN, renamed as allowed") or diag($error);
}
open(my $null, '>', '/dev/null') or die "open /dev/null: $!";
dies_like { $plugin->volume_export($scfg, $storeid, $null, 'vm-103-disk-1', 'zfs', undef, undef, 0) }
    qr/this storage sends and receives raw\+size only/, 'another format refused';
close($null);
$plugin->free_image($storeid, $scfg, $_, 0) for ('vm-105-disk-0', 'vm-105-disk-1');

# free everything
$plugin->deactivate_volume($storeid, $scfg, 'base-100-disk-0/vm-101-disk-1');
$plugin->free_image($storeid, $scfg, $_, 0)
    for ('base-100-disk-0/vm-101-disk-1', 'base-100-disk-0/vm-102-disk-0', 'vm-100-cloudinit',
        'vm-103-disk-0', 'vm-103-disk-1');
$plugin->free_image($storeid, $scfg, 'base-100-disk-0', 1);
$plugin->free_image($storeid, $scfg, 'base-100-disk-0', 1);
is_deeply(volids(), [], 'all freed');
is_deeply(snapshots(), [], 'no snapshot left');

# The status answer is shared between linstor-pve processes: with the controller gone, a
# later process still answers from the file an earlier one wrote (whatever its own lifetime
# setting accepts); with the cache off it must ask, and fails quickly.
$controller->stop();
is_deeply([ $plugin->status($storeid, { %$scfg, statuscache => 3600 }) ], [ $total, $free, $used, $active ],
    'status from another process\'s cache, controller stopped');
dies_like { $plugin->status($storeid, { %$scfg, statuscache => 0 }) } qr/no LINSTOR controller reachable/,
    'no cache: the controller is asked';
done_testing();
