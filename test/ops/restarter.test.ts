import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serviceRestarter } from '../../src/ops/restarter.ts'
import { parentPid } from '../../src/home/process-identity.ts'

test('who starts the service again after exit 42: the supervisor only while it is still the parent; systemd and launchd by their environment; else nobody', () => {
  assert.equal(serviceRestarter({}, true, 500, 500), 'supervisor')
  assert.equal(serviceRestarter({}, true, 500, 1), null, 'the supervisor died: re-parented to init')
  assert.equal(serviceRestarter({}, true, 500, 731), null, 'or to a subreaper')
  assert.equal(serviceRestarter({}, false, 500, 500), null, '--no-supervisor by hand')
  const unit = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/ductor.service\n'
  assert.equal(serviceRestarter({ INVOCATION_ID: 'abc' }, false, 1, 1, unit), 'systemd')
  assert.equal(serviceRestarter({ INVOCATION_ID: 'abc' }, false, 1, 1, '0::/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.service\n'), null, 'an INVOCATION_ID inherited from another unit')
  assert.equal(serviceRestarter({ INVOCATION_ID: 'abc' }, false, 1, 1, null), 'systemd', 'no cgroups to read: INVOCATION_ID decides')
  assert.equal(serviceRestarter({ XPC_SERVICE_NAME: 'dev.ductor' }, false, 1, 1, null), 'launchd')
  assert.equal(serviceRestarter({ XPC_SERVICE_NAME: '0' }, false, 1, 1), null, 'a macOS terminal is not launchd')
  assert.equal(parentPid(process.pid), process.ppid)
  assert.equal(parentPid(2 ** 22 + 12345), null, 'no such process')
})
