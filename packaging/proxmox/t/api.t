#!/usr/bin/perl
# The shim's answers that need no controller: api() against PVE's version
# window, the plugin's declarations, and volume names parsed by linstor-pve.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/..";
use Test::More;

use LINSTORPlugin;

my $plugin = 'PVE::Storage::Custom::LINSTORPlugin';

ok($plugin->isa('PVE::Storage::Plugin'), 'derived from PVE::Storage::Plugin');
is($plugin->type(), 'linstor', 'storage type');
is($plugin->api(), 11, 'without PVE::Storage: the tested API version');

{
    no warnings 'once';
    my ($apiver, $apiage);
    local *PVE::Storage::APIVER = sub { $apiver };
    local *PVE::Storage::APIAGE = sub { $apiage };
    ($apiver, $apiage) = (10, 1);
    is($plugin->api(), 10, 'APIVER 10 (rename_volume): 10');
    ($apiver, $apiage) = (11, 2);
    is($plugin->api(), 11, 'APIVER 11: 11');
    ($apiver, $apiage) = (9, 0);
    is($plugin->api(), 11, 'older than 10: the tested version (PVE refuses)');
    ($apiver, $apiage) = (13, 3);
    is($plugin->api(), 13, 'newer PVE whose window reaches 11: its APIVER');
    ($apiver, $apiage) = (15, 6);
    is($plugin->api(), 15, 'a wide window (APIVER 15, APIAGE 6): its APIVER');
    ($apiver, $apiage) = (14, 1);
    is($plugin->api(), 11, 'window no longer reaches 11: the tested version (PVE refuses)');
}

is($plugin->activate_storage('ls', {}, {}), 1, 'activate_storage: nothing to do');
is($plugin->deactivate_storage('ls', {}, {}), 1, 'deactivate_storage: nothing to do');
is($plugin->volume_snapshot_needs_fsfreeze(), 1, 'snapshots of a running guest need a frozen file system');
is_deeply($plugin->plugindata()->{format}, [ { raw => 1 }, 'raw' ], 'raw only');

my $options = $plugin->options();
ok($options->{shared} && $options->{resourcegroup} && $options->{controller}, 'options');
is_deeply([sort keys %{ $plugin->properties() }],
    [qw(apica apicrt apikey apitoken controller preferlocal profile resourcegroup statuscache)],
    'own properties (shared is PVE\'s)');

is_deeply([$plugin->parse_volname('vm-100-disk-0')],
    ['images', 'vm-100-disk-0', 100, undef, undef, 0, 'raw'], 'parse vm disk');
is_deeply([$plugin->parse_volname('base-100-disk-0/vm-101-disk-2')],
    ['images', 'vm-101-disk-2', 101, 'base-100-disk-0', 100, 0, 'raw'], 'parse linked clone');
is_deeply([$plugin->parse_volname('base-100-disk-0')],
    ['images', 'base-100-disk-0', 100, undef, undef, 1, 'raw'], 'parse base');

for my $bad ('vm-100', 'vm-100-disk-0.qcow2', '100/vm-100-disk-0.raw', 'vm-1-disk-0/vm-2-disk-0') {
    eval { $plugin->parse_volname($bad) };
    like($@, qr/^invalid volname '\Q$bad\E'/, "malformed '$bad' dies");
    unlike($@, qr/Traceback/, 'no traceback');
}

# The shim parses names itself (a linstor-pve process per name is too slow under
# PVE's lock): it must answer exactly as linstor-pve does, valid or not.
for my $name ('vm-100-disk-0', 'vm-999999999-disk-9999', 'base-7-cloudinit', 'vm-5-state-snap_1-a',
    'vm-5-fleece-0', 'vm-5-pvc-x_y-z', 'base-100-disk-0/vm-101-disk-2', 'base-100-disk-0/base-101-disk-2',
    'vm-0-disk-0', 'vm-1000000000-disk-0', 'vm-1-disk-12345', 'vm-1-disk-0/vm-2-disk-0',
    'vm-1-disk-0/base-2-disk-0', 'base-1-disk-0/base-2-disk-0/vm-3-disk-0', "vm-1-disk-0\n", '', 'vm-1-state-',
    'vm-1-pvc-' . ('x' x 61), 'VM-1-disk-0', 'vm-01-disk-0', 'vm-1-disk-0 ', '/vm-1-disk-0',
    'vm-100-data', 'base-100-data/vm-101-my_disk-2', 'vm-1-' . ('x' x 64), 'vm-1-' . ('x' x 65), 'vm-1-disk-0.raw',
    'vm-1--x', 'vm-1-a/b') {
    my @here = eval { $plugin->parse_volname($name) };
    my $error_here = $@;
    my $there = eval { PVE::Storage::Custom::LINSTORPlugin::_run('parse_volname', { args => { volname => $name } }) };
    my $error_there = $@;
    (my $shown = $name) =~ s/\n/\\n/g;
    if ($error_there) {
        like($error_here, qr/^invalid volname/, "'$shown': refused here as by linstor-pve");
    } else {
        is_deeply(\@here, $there, "'$shown': parsed here as by linstor-pve");
    }
}

is($plugin->volume_has_feature({}, 'clone', 'ls', 'base-100-disk-0', undef, 0), 1, 'clone from base');
is($plugin->volume_has_feature({}, 'clone', 'ls', 'vm-100-disk-0', undef, 0), undef, 'no clone of current');
is($plugin->volume_has_feature({}, 'snapshot', 'ls', 'vm-100-disk-0', undef, 1), 1, 'snapshot');
is($plugin->volume_has_feature({}, 'template', 'ls', 'vm-100-disk-0', undef, 0), 1, 'template');

# An unreachable controller is a quick, clear die, well inside PVE's lock budget.
my $started = time();
eval { $plugin->status('ls', { type => 'linstor', resourcegroup => 'gold', controller => 'http://127.0.0.1:9',
    statuscache => 0 }) };
like($@, qr/no LINSTOR controller reachable; tried http:\/\/127\.0\.0\.1:9/, 'unreachable controller');
cmp_ok(time() - $started, '<', 15, 'fails within seconds');

done_testing();
