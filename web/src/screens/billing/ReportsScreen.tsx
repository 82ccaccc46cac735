// Placeholder so the UI builds; the owner of this screen replaces this file.
import { EmptyState, PageHeader } from '../../ui/index.ts';

export default function ReportsScreen() {
  return (
    <div className="page">
      <PageHeader title="Reports" />
      <EmptyState title="This screen is being built">It will appear here in a coming release.</EmptyState>
    </div>
  );
}
