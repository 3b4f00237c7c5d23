-- Customers to upload to Meta: only contacts given with advertising consent.
select
    c.customer_id,
    c.email,
    c.marketing_phone as phone
from {{ source('crm', 'customers') }} as c
