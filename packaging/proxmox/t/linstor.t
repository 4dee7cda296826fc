#!/usr/bin/perl
# Every storage method through the shim, linstor-pve and the real embedded
# controller: allocate, list, activate, path, write, snapshot, write more,
# roll back (the data is the snapshot's), template + two linked clones, free
# refusing the base, resize, rename, status, bad input changing nothing, free.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
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
    local *PVE::Storage::config = sub { return { ids => { other => {}, $storeid => $scfg } } };
    is(scalar($plugin->filesystem_path($scfg, 'vm-100-disk-0')), $path, 'filesystem_path finds its storage');
}

# write, snapshot, write more, roll back
write_at($path, 'first');
is($plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', 'snap1'), undef, 'snapshot');
write_at($path, 'second');
is(read_at($path, 6), 'second', 'data written after the snapshot');
ok($plugin->volume_rollback_is_possible($scfg, $storeid, 'vm-100-disk-0', 'snap1'), 'rollback possible');
$plugin->volume_snapshot_rollback($scfg, $storeid, 'vm-100-disk-0', 'snap1');
($path) = $plugin->path($scfg, 'vm-100-disk-0', $storeid);
is(read_at($path, 5), 'first', 'after rollback the data is the snapshot\'s');
$plugin->volume_snapshot_delete($scfg, $storeid, 'vm-100-disk-0', 'snap1');

# bad input: a clear die, nothing changed
my $before = volids();
dies_like { $plugin->alloc_image($storeid, $scfg, 100, 'raw', 'vm-999-disk-0', 4096) }
    qr/belongs to VM 999, not to VM 100/, 'vmid mismatch';
dies_like { $plugin->alloc_image($storeid, $scfg, 100, 'raw', 'vm-100-disk-0', 4096) }
    qr/already exists/, 'existing name';
dies_like { $plugin->alloc_image($storeid, $scfg, 100, 'qcow2', undef, 4096) }
    qr/invalid format 'qcow2'/, 'qcow2 refused';
dies_like { $plugin->volume_snapshot($scfg, $storeid, 'vm-100-disk-0', $_) }
    qr/reserved by Proxmox VE/, "snapshot name $_ refused" for qw(vzdump __base__ current);
dies_like { $plugin->path($scfg, 'vm-100-disk-0.raw', $storeid) } qr/invalid volname/, 'malformed volname';
dies_like { $plugin->alloc_image($storeid, { %$scfg, redundancy => 2 }, 100, 'raw', undef, 4096) }
    qr/invalid storage option 'redundancy'/, 'unknown storage option';
dies_like { $plugin->path($scfg, 'vm-100-disk-7', $storeid) } qr/ls:vm-100-disk-7 does not exist/,
    'missing volume';
is_deeply(volids(), $before, 'nothing changed');

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
is(read_at($clone_path, 5), 'first', 'the clone holds the template\'s data');
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

# free everything
$plugin->deactivate_volume($storeid, $scfg, 'base-100-disk-0/vm-101-disk-1');
$plugin->free_image($storeid, $scfg, $_, 0)
    for ('base-100-disk-0/vm-101-disk-1', 'base-100-disk-0/vm-102-disk-0', 'vm-100-cloudinit');
$plugin->free_image($storeid, $scfg, 'base-100-disk-0', 1);
$plugin->free_image($storeid, $scfg, 'base-100-disk-0', 1);
is_deeply(volids(), [], 'all freed');

$controller->stop();
done_testing();
